"""What the answer stage hands over (typed): the Answer with its blocks and numbered citations, and why
it is what it is (Reason). `finish` renders the blocks as text (prompts/answer.j2) and adds the sources."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from assistant.blocks import Block, BlockKind
from assistant.citations import Citation
from assistant.understand import Question
from prompts.render import render
from retrieval.retrieve import Passage, SectionHit


class Reason(StrEnum):
    """Why an answer is what it is (a refusal's reason, or "answered")."""

    ANSWERED = "answered"
    INJECTION = "injection"
    OUT_OF_SCOPE = "out_of_scope"  # a topic of another service (allowances, health, school, justice…)
    OUT_OF_AREA = "out_of_area"  # a place or département the corpus does not cover
    NO_EVIDENCE = "no_evidence"  # too little of the question is in any passage
    NO_DATUM = "no_datum"  # asks for a number, hours, an amount, a delay or a figure no passage about it holds
    OUT_OF_PERIOD = "out_of_period"  # a year after the sources' period, or one no passage mentions
    UNNAMED_PLACE = "unnamed_place"  # asks what is in a commune that no passage about it names


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    audience: str
    text: str
    citations: tuple[Citation, ...]
    refused: bool
    emergency: bool
    reason: str  # a Reason
    engine: str = "extractive"  # "extractive" | "llm" | "extractive-fallback" (the model failed)
    query: str = ""
    sections: tuple[str, ...] = field(default=())
    analysis: Question | None = None  # what the question analysis found
    body: str = ""  # the answer before its sources list (the text a person reads)
    blocks: tuple[Block, ...] = ()  # the parts of the answer, for each interface to render


class Numbering:
    """Gives each cited passage one [n], in order of first use."""

    def __init__(self, unreviewed: frozenset[str] = frozenset()) -> None:
        self.citations: list[Citation] = []
        self._by_chunk: dict[str, int] = {}
        self.unreviewed = unreviewed

    def cite(self, hit: SectionHit, passage: Passage) -> int:
        if passage.chunk_id not in self._by_chunk:
            n = len(self.citations) + 1
            self._by_chunk[passage.chunk_id] = n
            fiche = f"Fiche {hit.title}" if hit.kind == "fiche" else hit.title
            self.citations.append(
                Citation(
                    n,
                    passage.chunk_id,
                    hit.section_id,
                    hit.document,
                    fiche,
                    hit.page,
                    hit.source,
                    passage.start_line,
                    passage.end_line,
                    passage.text,
                    hit.territory,
                    hit.doc_id not in self.unreviewed,
                )
            )
        return self._by_chunk[passage.chunk_id]


def emergency_block(emergency: str) -> list[Block]:
    return [Block(BlockKind.EMERGENCY, emergency)] if emergency else []


def finish(
    q: Question,
    blocks: Sequence[Block],
    citations: Sequence[Citation],
    refused: bool,
    reason: Reason,
    engine: str = "extractive",
    sections: tuple[str, ...] = (),
) -> Answer:
    """The Answer: its blocks rendered as text, the sources list after them."""
    text = body = render("answer.j2", blocks=blocks)
    if citations:
        text = f"{text}\n\n{render('sources.j2', citations=citations)}"
    return Answer(
        q.text,
        q.audience,
        text,
        tuple(citations),
        refused,
        q.danger.signalled,
        reason,
        engine,
        q.query_text,
        sections,
        q,
        body,
        tuple(blocks),
    )
