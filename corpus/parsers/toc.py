"""Helpers for documents whose headings are listed in a table of contents with page numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from corpus.clean import fold, squash

_TRAILING_PAGE = re.compile(r"^(.*?\S)\s+(\d{1,3})\s*$")


@dataclass(frozen=True, slots=True)
class TocEntry:
    title: str
    page: int | None


def parse_toc(
    raw_lines: list[str],
    start: int,
    end: int,
    skip: re.Pattern[str] | None = None,
    entry_start: re.Pattern[str] | None = None,
) -> list[TocEntry]:
    """Entries of a table of contents, joining titles wrapped over several lines.

    A line matching `entry_start` always opens a new entry, even when the previous one had no page.
    """
    entries: list[TocEntry] = []
    pending: list[str] = []
    for raw in raw_lines[start:end]:
        text = squash(raw)
        if not text or (skip and skip.match(text)):
            continue
        if pending and entry_start and entry_start.match(text):
            entries.append(TocEntry(squash(" ".join(pending)), None))
            pending = []
        pending.append(text)
        match = _TRAILING_PAGE.match(" ".join(pending))
        if match:
            entries.append(TocEntry(squash(match.group(1)), int(match.group(2))))
            pending = []
        elif len(pending) >= 3:
            entries.append(TocEntry(squash(" ".join(pending)), None))
            pending = []
    if pending:
        entries.append(TocEntry(squash(" ".join(pending)), None))
    return entries


def consume_title(raw_lines: list[str], index: int, title: str, max_lines: int = 5) -> int:
    """Index of the first line after a heading at `index` whose full wording is `title`.

    The heading may wrap over several lines; lines are consumed while their words continue the title.
    """
    target = fold(title).split()
    position = 0
    cursor = index
    while cursor < len(raw_lines) and cursor - index < max_lines:
        words = fold(raw_lines[cursor]).split()
        if not words:
            if cursor == index:
                return index + 1
            break
        if target[position : position + len(words)] != words:
            # The last words of a heading line may be cut differently; accept a partial continuation.
            if cursor == index or (words and position < len(target) and words[0] == target[position]):
                position += len(words)
                cursor += 1
                continue
            break
        position += len(words)
        cursor += 1
        if position >= len(target):
            break
    return max(cursor, index + 1)
