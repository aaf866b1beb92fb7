"""The answer about a child in danger: the emergency numbers (17 / 112 first when the danger is
immediate), then what to do — for families what the 119 does, for professionals the steps from the
information préoccupante to the CRIP to the signalement, with the sources' own sentences, cited."""

from __future__ import annotations

import re

from assistant.blocks import Block, BlockKind, Cited
from assistant.compose import split_units
from assistant.reply import Numbering
from assistant.understand import Audience, Question
from prompts.render import render
from retrieval.retrieve import Passage, Retriever, SectionHit

# For professionals, what to do about a child in danger (the procedure of art. L226-3 and L226-4 CASF).
PROFESSIONAL_STEPS = (
    "Transmettez sans délai une information préoccupante à la cellule de recueil des informations "
    "préoccupantes (CRIP) du Département où vit l'enfant, en décrivant les faits observés ou rapportés.",
    "Si l'enfant est en danger grave ou immédiat, faites un signalement directement au procureur de la "
    "République (parquet du tribunal judiciaire) et informez-en la CRIP ; en urgence, le 17 ou le 112.",
    "Informez les parents de la transmission, sauf si c'est contraire à l'intérêt de l'enfant. En cas de "
    "doute, le 119 conseille aussi les professionnels.",
)
_CONNECTIVE = re.compile(r"^(En outre|Par ailleurs|De plus|Ainsi|Enfin|Aussi),\s*")
Found = tuple[SectionHit, Passage, str]


class DangerAnswer:
    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever
        self._recall: Found | None = None
        self._crip: Found | None = None

    def emergency(self, q: Question, numbering: Numbering) -> str:
        """The numbers to call (and, for professionals, the sources' sentence on IP vs signalement)."""
        recall = None
        if q.audience == Audience.PROFESSIONNEL:
            found = self.ip_recall()
            if found:
                hit, passage, sentence = found
                recall = {"text": sentence, "n": numbering.cite(hit, passage)}
        return render("emergency.j2", audience=q.audience, recall=recall, level=q.danger.level)

    def block(self, q: Question, numbering: Numbering) -> str:
        """The emergency numbers, then what to do about the danger."""
        return f"{self.emergency(q, numbering)}\n\n{self.what_to_do(q, numbering)}".rstrip()

    def what_to_do(self, q: Question, numbering: Numbering) -> str:
        """What to do about the danger: for families, what the 119 does; for professionals, the steps
        from the information préoccupante to the CRIP to the signalement, with the sources' sentence."""
        professional = q.audience == Audience.PROFESSIONNEL
        steps = (
            [{"text": s.text, "n": s.n[0] if s.n else None} for s in self.professional_steps(numbering)]
            if professional
            else []
        )
        return render(
            "danger.j2", audience=q.audience, label=q.danger.label, minor=q.danger.minor_writing, steps=steps
        ).strip()

    def report_steps(self, numbering: Numbering) -> Block:
        """« comment faire une information préoccupante ? » asked by a professional: the steps before what the
        fiches say."""
        items = tuple(self.professional_steps(numbering))
        return Block(BlockKind.STEPS, title="Transmettre une information préoccupante :", items=items)

    def professional_steps(self, numbering: Numbering) -> list[Cited]:
        """The steps of PROFESSIONAL_STEPS, the cell's role in the sources' words (cited) second."""
        steps = [Cited(step) for step in PROFESSIONAL_STEPS]
        found = self.crip_sentence()
        if found:
            hit, passage, sentence = found
            role = f"Le rôle de la cellule, selon le schéma de l'Isère : {sentence}"
            steps.insert(1, Cited(role, (numbering.cite(hit, passage),)))
        return steps

    def ip_recall(self) -> Found | None:
        """The sources' own sentence on information préoccupante vs signalement (found once)."""
        if self._recall is None:
            self._recall = self._source_sentence(
                "distinction information préoccupante signalement autorité judiciaire", ("distinction", "signalement")
            )
        return self._recall

    def crip_sentence(self) -> Found | None:
        """The sources' sentence on the cell that centralises the informations préoccupantes (found once)."""
        if self._crip is None:
            self._crip = self._source_sentence(
                "cellule centraliser les informations préoccupantes traitement", ("cellule", "centraliser")
            )
        return self._crip

    def _source_sentence(self, query: str, words: tuple[str, ...]) -> Found | None:
        for hit in self.retriever.search(query, k=5):
            if hit.doc_id in self.retriever.unreviewed:
                continue
            for passage in hit.passages:
                for unit in split_units(passage.text):
                    folded = unit.lower()
                    if all(word in folded for word in words):
                        return hit, passage, without_connective(unit)
        return None


def without_connective(sentence: str) -> str:
    """A sentence quoted alone, without the « En outre, » that tied it to the one before."""
    rest = _CONNECTIVE.sub("", sentence)
    return rest[:1].upper() + rest[1:] if rest != sentence else sentence
