"""Split pooled eval items into a development half and a held-out half, by fiche.

Run: ``python -m evals.split_pool evals/answers_pool_a.jsonl evals/answers_pool_b.jsonl --dev D --heldout H``.
Each item goes to the half that the sha256 of its first gold span's section id picks, so that all the
questions about one fiche fall on the same side: held-out questions are about fiches the tuning never
saw questions on. Only counts are printed, never an item (the held-out half stays unread).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from corpus.documents import all_sections
from evals.run import load_items


def section_of(item: dict[str, Any], spans: list[tuple[str, int, int, str]]) -> str:
    gold = item["gold"][0]
    for source, start, end, section_id in spans:
        if source == gold["source"] and start <= int(gold["start_line"]) <= end:
            return section_id
    return f"{gold['source']}:{gold['start_line']}"


def side(section_id: str) -> str:
    return "heldout" if hashlib.sha256(section_id.encode()).digest()[0] % 2 else "dev"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pools", nargs="+", type=Path)
    parser.add_argument("--dev", type=Path, required=True)
    parser.add_argument("--heldout", type=Path, required=True)
    args = parser.parse_args(argv)
    spans = [(s.source, s.start_line, s.end_line, s.section_id) for s in all_sections()]
    halves: dict[str, list[dict[str, Any]]] = {"dev": [], "heldout": []}
    for pool in args.pools:
        for item in load_items(pool):
            halves[side(section_of(item, spans))].append(item)
    for name, path in (("dev", args.dev), ("heldout", args.heldout)):
        path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in halves[name]), encoding="utf-8")
        counts = Counter(f"{i['audience']}/{i['kind']}" for i in halves[name])
        print(f"{name}: {len(halves[name])} items -> {path}  {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    main()
