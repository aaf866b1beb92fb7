"""Matching of field labels that PDF extraction may wrap over several short lines."""

from __future__ import annotations

from dataclasses import dataclass

from corpus.clean import fold, squash


@dataclass(frozen=True, slots=True)
class LabelMatch:
    label: str  # canonical label
    consumed: int  # raw lines consumed (label lines and the blank lines between them)
    value: str  # text following the label on its last line ('' when none)


def match_label(raw_lines: list[str], index: int, label: str, max_lines: int = 4) -> LabelMatch | None:
    """Match `label` starting at raw_lines[index], allowing it to wrap over up to `max_lines` lines.

    A single-line label may be followed by its value on the same line ("Territoire Roanne").
    """
    target = fold(label)
    first = fold(raw_lines[index])
    if not first:
        return None
    if first == target:
        return LabelMatch(label, 1, "")
    if first.startswith(target + " "):
        # Value on the same line: cut the label off the raw text, keeping the value's accents.
        words = len(target.split())
        value = squash(" ".join(squash(raw_lines[index]).split(" ")[words:]))
        return LabelMatch(label, 1, value)
    accumulated, lines_used, cursor = first, 1, index + 1
    while target.startswith(accumulated + " ") and cursor < len(raw_lines) and lines_used < max_lines:
        nxt = fold(raw_lines[cursor])
        cursor += 1
        if not nxt:
            continue
        accumulated = f"{accumulated} {nxt}"
        lines_used += 1
        if accumulated == target:
            return LabelMatch(label, cursor - index, "")
    return None
