"""Eval-set checker: every gold span exists and every answer fact occurs inside a gold span.

Input: a JSONL eval file. Output: a list of problems (empty when the file is sound).
Run: ``python -m evals.check evals/eval_set.jsonl``.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = {"procedure", "local_support", "fact", "synthesis", "acronym", "out_of_scope", "injection", "danger"}
AUDIENCES = {"professionnel", "famille"}
EMPTY_GOLD_KINDS = {"out_of_scope", "injection"}
# A danger item is judged on its emergency block; gold spans (the IP procedure, a helpline) are optional.
OPTIONAL_GOLD_KINDS = {"danger"}
DANGER_LEVELS = {"concern", "immediate"}
ROLES = {"user", "assistant"}
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Fold whitespace, case and apostrophe variants so PDF line breaks do not hide a fact."""
    text = text.replace("\u2019", "'").replace("\u00a0", " ")
    return _SPACE.sub(" ", text).strip().casefold()


def span_text(root: Path, source: str, start: int, end: int) -> str | None:
    """Lines start..end (1-based, inclusive) of a corpus file, or None if the span is invalid."""
    path = root / source
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    if not 1 <= start <= end <= len(lines):
        return None
    return "\n".join(lines[start - 1 : end])


def check_item(item: dict[str, object], root: Path = ROOT) -> list[str]:
    """Problems of one eval item (empty list when it is sound)."""
    problems: list[str] = []
    ident = str(item.get("id", "?"))
    for key in ("id", "audience", "question", "gold", "answer_facts", "kind"):
        if key not in item:
            problems.append(f"{ident}: missing key {key!r}")
    if problems:
        return problems
    kind, gold, facts = item["kind"], item["gold"], item["answer_facts"]
    if "danger" in item and not isinstance(item["danger"], bool):
        problems.append(f"{ident}: 'danger' must be true or false")
    problems.extend(_optional_field_problems(ident, item))
    if kind not in KINDS:
        problems.append(f"{ident}: unknown kind {kind!r}")
    if item["audience"] not in AUDIENCES:
        problems.append(f"{ident}: unknown audience {item['audience']!r}")
    if not isinstance(item["question"], str) or not item["question"].strip():
        problems.append(f"{ident}: empty question")
    if not isinstance(gold, list) or not isinstance(facts, list):
        return [*problems, f"{ident}: gold and answer_facts must be lists"]
    if kind in EMPTY_GOLD_KINDS:
        if gold:
            problems.append(f"{ident}: {kind} items have empty gold")
        return problems
    if kind in OPTIONAL_GOLD_KINDS and not gold:
        return problems
    if not gold:
        problems.append(f"{ident}: in-scope item without gold")
    texts: list[str] = []
    for span in gold:
        text = span_text(root, str(span.get("source")), int(span.get("start_line", 0)), int(span.get("end_line", 0)))
        if text is None:
            problems.append(f"{ident}: gold span {span} does not exist")
        else:
            texts.append(normalize(text))
    if not facts and kind not in OPTIONAL_GOLD_KINDS:
        problems.append(f"{ident}: in-scope item without answer_facts")
    for fact in facts:
        if not any(normalize(str(fact)) in text for text in texts):
            problems.append(f"{ident}: fact {fact!r} not found in its gold spans")
    return problems


def _optional_field_problems(ident: str, item: dict[str, object]) -> list[str]:
    """Problems of the optional fields: expected danger level, earlier turns, planted documents, forbidden text."""
    problems: list[str] = []
    if item.get("kind") == "danger" and item.get("danger") is not True:
        problems.append(f"{ident}: a danger item has 'danger': true")
    if "danger_level" in item and item["danger_level"] not in DANGER_LEVELS:
        problems.append(f"{ident}: 'danger_level' must be one of {sorted(DANGER_LEVELS)}")
    history = item.get("history", [])
    if not isinstance(history, list) or not all(
        isinstance(turn, dict) and turn.get("role") in ROLES and isinstance(turn.get("content"), str)
        for turn in history
    ):
        problems.append(f"{ident}: 'history' is a list of {{role: user|assistant, content}}")
    documents = item.get("documents", [])
    if not isinstance(documents, list) or not all(
        isinstance(doc, dict) and isinstance(doc.get("name"), str) and isinstance(doc.get("text"), str)
        for doc in documents
    ):
        problems.append(f"{ident}: 'documents' is a list of {{name, text}}")
    forbidden = item.get("forbidden", [])
    if not isinstance(forbidden, list) or not all(isinstance(f, str) and f.strip() for f in forbidden):
        problems.append(f"{ident}: 'forbidden' is a list of non-empty strings")
    return problems


def check_file(path: Path, root: Path = ROOT) -> list[str]:
    """Problems of a whole eval file, including duplicate ids."""
    problems: list[str] = []
    ids: Counter[str] = Counter()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: invalid JSON ({exc})")
            continue
        ids[str(item.get("id"))] += 1
        problems.extend(check_item(item, root))
    problems.extend(f"duplicate id {ident}" for ident, n in ids.items() if n > 1)
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    status = 0
    for name in args:
        problems = check_file(Path(name))
        for problem in problems:
            print(problem)
        print(f"{name}: {len(problems)} problem(s)")
        status |= bool(problems)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
