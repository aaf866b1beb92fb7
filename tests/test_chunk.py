"""Token-aware chunking keeps provenance and works offline."""

from __future__ import annotations

import hashlib
import re

import tiktoken

from corpus.model import Section
from retrieval.chunk import ENCODING, TIKTOKEN_DIR, chunk_section, use_vendored_tiktoken

from .conftest import ROOT

CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"


def test_vendored_bpe_file_is_the_one_tiktoken_expects() -> None:
    files = list(TIKTOKEN_DIR.iterdir())
    assert [f.name for f in files] == [
        hashlib.sha1(b"https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken").hexdigest()
    ]
    assert hashlib.sha256(files[0].read_bytes()).hexdigest() == CL100K_SHA256


def test_chunks_respect_token_budget_and_point_at_their_lines(sections: list[Section]) -> None:
    use_vendored_tiktoken()
    encoding = tiktoken.get_encoding(ENCODING)
    for section in sections[:60]:
        lines = (ROOT / section.source).read_text(encoding="utf-8").splitlines()
        chunks = chunk_section(section, "Doc", chunk_tokens=128, overlap_tokens=16)
        assert chunks, section.section_id
        for chunk in chunks:
            assert len(encoding.encode(chunk.text)) <= 128
            assert section.start_line <= chunk.start_line <= chunk.end_line <= section.end_line
            last_word = re.findall(r"[^\W_]{3,}", chunk.text)[-1]  # markdown escapes are cleaned, words are not
            span = "\n".join(lines[chunk.start_line - 1 : chunk.end_line])
            assert last_word in span, (chunk.id, last_word)
            assert chunk.header.startswith("Doc › ")


def test_chunk_header_carries_fiche_and_territory(sections: list[Section]) -> None:
    fiche = next(s for s in sections if s.doc_id == "loire-fiches-2017" and s.number == "15")
    chunk = chunk_section(fiche, "Fiches Loire")[0]
    assert chunk.header.startswith("Fiches Loire › 15. Collectif VACANCES FAMILLE FIRMINY")
    assert "Territoire : Gier Ondaine Pilat" in chunk.header
