"""Token-aware chunking within sections: Section -> Chunks that keep their exact source line span.

Token counts use tiktoken's cl100k_base, read from the copy vendored in retrieval/data/tiktoken
(tiktoken would otherwise download it at first use, which fails offline).
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import tiktoken
from langchain_text_splitters import RecursiveCharacterTextSplitter

from corpus.model import Section

TIKTOKEN_DIR = Path(__file__).resolve().parent / "data" / "tiktoken"
ENCODING = "cl100k_base"


@dataclass(frozen=True, slots=True)
class Chunk:
    id: str  # f"{section_id}#{ordinal}"
    section_id: str
    doc_id: str
    source: str
    ordinal: int
    header: str  # context header: document › fiche › field
    text: str  # the passage, cleaned
    start_line: int
    end_line: int
    field: str

    @property
    def indexed_text(self) -> str:
        return f"{self.header}\n{self.text}"


def use_vendored_tiktoken() -> None:
    """Point tiktoken at the vendored BPE files unless the deployment set its own cache."""
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(TIKTOKEN_DIR))


@lru_cache(maxsize=1)
def _encoding() -> tiktoken.Encoding:
    use_vendored_tiktoken()
    return tiktoken.get_encoding(ENCODING)


def token_count(text: str) -> int:
    """Tokens of a text in cl100k_base (the vendored tokenizer), as OpenAI-compatible clients count usage."""
    return len(_encoding().encode(text, disallowed_special=()))


@lru_cache(maxsize=8)
def splitter(chunk_tokens: int, overlap_tokens: int) -> RecursiveCharacterTextSplitter:
    use_vendored_tiktoken()
    return RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name=ENCODING,
        chunk_size=chunk_tokens,
        chunk_overlap=overlap_tokens,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
    )


def section_header(section: Section, document_title: str, field: str) -> str:
    """Short context header that travels with every chunk of a section."""
    parts = [document_title, *section.breadcrumb, section.display_title]
    if field:
        parts.append(field)
    header = " › ".join(p for p in parts if p)
    extras = []
    if section.territory:
        extras.append(f"Territoire : {section.territory}")
    if section.public:
        extras.append(f"Public : {section.public}")
    return f"{header} ({' ; '.join(extras)})" if extras else header


def section_body(section: Section) -> tuple[str, list[int], list[int], list[str]]:
    """Section text with one entry per line: char offset of each line, its source line, its field."""
    text_parts: list[str] = []
    offsets: list[int] = []
    numbers: list[int] = []
    fields: list[str] = []
    position = 0
    for field_index, fld in enumerate(section.fields):
        for line_index, line in enumerate(fld.lines):
            prefix = "\n\n" if field_index and line_index == 0 else ("\n" if text_parts else "")
            label = fld.label.rstrip(" :")
            content = f"{label} : {line.text}" if line_index == 0 and label else line.text
            position += len(prefix)
            offsets.append(position)
            numbers.append(line.number)
            fields.append(fld.label)
            text_parts.append(prefix + content)
            position += len(content)
    return "".join(text_parts), offsets, numbers, fields


def chunk_section(
    section: Section, document_title: str, chunk_tokens: int = 128, overlap_tokens: int = 32
) -> list[Chunk]:
    """Chunks of one section, each mapped back to the source lines it covers."""
    text, offsets, numbers, fields = section_body(section)
    if not text.strip():
        return []
    chunks: list[Chunk] = []
    previous = 0
    for ordinal, piece in enumerate(splitter(chunk_tokens, overlap_tokens).split_text(text)):
        # Locate the piece ourselves: langchain's add_start_index can overshoot with overlaps (-1).
        start = text.find(piece, previous)
        if start < 0:
            start = text.find(piece)
        previous = max(start, 0) + 1
        end = start + len(piece) - 1
        first = max(bisect.bisect_right(offsets, start) - 1, 0)
        last = max(bisect.bisect_right(offsets, end) - 1, first)
        chunks.append(
            Chunk(
                id=f"{section.section_id}#{ordinal}",
                section_id=section.section_id,
                doc_id=section.doc_id,
                source=section.source,
                ordinal=ordinal,
                header=section_header(section, document_title, fields[first]),
                text=piece,
                start_line=numbers[first],
                end_line=numbers[last],
                field=fields[first],
            )
        )
    return chunks
