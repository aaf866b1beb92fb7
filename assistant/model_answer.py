"""The optional chat model's answer: it gets the numbered passages of the sections the extractive answer
quotes from (and, for families, the best fiche's contact details), must cite them as [n], and is
checked line by line (`assistant/llm.py`). Any failure falls back to the extractive answer, which says so."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

from langchain_core.language_models import BaseChatModel

from assistant.blocks import Block, BlockKind
from assistant.citations import CONTACT_PATTERNS, Citation, markers, neutralise
from assistant.danger_answer import DangerAnswer
from assistant.fiche import Fiche
from assistant.llm import LLMError, stream_lines
from assistant.reply import Answer, Numbering, Reason, emergency_block
from assistant.understand import Question
from prompts.render import load_profile, render
from retrieval.retrieve import Retriever, SectionHit

FALLBACK_NOTE = (
    "(Le modèle de langue n'a pas répondu correctement : cette réponse est construite directement "
    "à partir des passages des documents.)"
)


class ModelAnswer:
    def __init__(
        self, chat_model: BaseChatModel, retriever: Retriever, fiches: Mapping[str, Fiche], danger: DangerAnswer, k: int
    ) -> None:
        self.chat_model = chat_model
        self.retriever = retriever
        self.fiches = fiches
        self.danger = danger
        self.k = k

    def events(self, extractive: Answer) -> Iterator[str | Answer]:
        """The model's lines as they come (after the emergency block), then the Answer; the extractive
        answer, with a note, when the model fails."""
        q = extractive.analysis
        assert q is not None
        numbering = Numbering(self.retriever.unreviewed)
        head = ""
        if q.danger.signalled:
            head = self.danger.block(q, numbering) + "\n\n"
            yield head
        before = len(numbering.citations)
        hits = [
            h
            for h in self.retriever.search(extractive.query, k=self.k, audience=q.audience)
            if h.section_id in extractive.sections
        ]
        self.cite(q, hits, numbering)
        passages = [for_model(c) for c in numbering.citations[before:]]
        sent: list[str] = []
        try:
            for line in stream_lines(self.chat_model, q.text, load_profile(q.audience), passages):
                sent.append(line)
                yield line
        except LLMError:
            fallback = with_fallback_note(extractive)
            yield fallback.body
            yield fallback
            return
        cited = {n for line in sent for n in markers(line)}
        if not cited:  # an uncited answer is not grounded: the extractive answer follows, and replaces it
            fallback = with_fallback_note(extractive)
            yield "\n\n" + fallback.body
            yield fallback
            return
        kept = numbering.citations[:before] + [c for c in numbering.citations[before:] if c.n in cited]
        tail = "\n\n" + render("sources.j2", citations=kept) if kept else ""
        yield Answer(
            q.text,
            q.audience,
            head + "".join(sent) + tail,
            tuple(kept),
            False,
            extractive.emergency,
            Reason.ANSWERED,
            "llm",
            extractive.query,
            extractive.sections,
            q,
            head + "".join(sent),
            (*emergency_block(head.strip()), Block(BlockKind.LEAD, "".join(sent).strip())),
        )

    def cite(self, q: Question, hits: Sequence[SectionHit], numbering: Numbering) -> None:
        """Number the passages the model may quote: those of the answer's sections and, for families, the
        best reviewed fiche's contact details."""
        for hit in hits:
            for passage in hit.passages:
                numbering.cite(hit, passage)
        top = hits[0] if hits else None
        if load_profile(q.audience).contact_first and top and top.doc_id not in self.retriever.unreviewed:
            for unit in self.fiches[top.section_id].contacts(question=q.text):
                for passage in unit.passages:
                    numbering.cite(top, passage)


def collected(events: Iterator[str | Answer]) -> Answer:
    """The Answer that a stream of events ends with."""
    last: Answer | None = None
    for piece in events:
        if isinstance(piece, Answer):
            last = piece
    assert last is not None, "a stream of events ends with its Answer"
    return last


def with_fallback_note(answer: Answer) -> Answer:
    """The extractive answer given when the model failed, saying so after the emergency block."""
    first = 1 if answer.blocks and answer.blocks[0].kind == BlockKind.EMERGENCY else 0
    blocks = (*answer.blocks[:first], Block(BlockKind.NOTICE, FALLBACK_NOTE), *answer.blocks[first:])
    body = render("answer.j2", blocks=blocks)
    sources = answer.text[len(answer.body) :]
    return replace(answer, blocks=blocks, body=body, text=body + sources, engine="extractive-fallback")


def for_model(citation: Citation) -> Citation:
    """A passage as the chat model sees it: markers and markup neutralised, and no contact details when
    it comes from an added document nobody has reviewed yet."""
    quote = neutralise(citation.quote)
    if not citation.reviewed:
        for pattern in CONTACT_PATTERNS.values():
            quote = pattern.sub("[coordonnée non vérifiée retirée]", quote)
    return replace(citation, quote=quote)
