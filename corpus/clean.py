"""Pure cleaning helpers shared by the document parsers: raw line -> cleaned line (or nothing).

The raw files are never modified; these functions only shape what the parsers keep.
"""

from __future__ import annotations

import re
import unicodedata

from corpus.model import Field, Line

# Bullet glyphs left by PDF extraction ("Á" and "¶" are Wingdings bullets decoded as Latin-1).
_BULLET = re.compile(r"^\s*(?:[Á¶•▪►➢✓·]|o(?=\s)|[-–—](?=\s))\s*")
_SPACES = re.compile(r"[ \t\u00a0]+")
_PAGE_NUMBER = re.compile(r"^\s*\d{1,3}\s*$")


def squash(text: str) -> str:
    """Collapse runs of spaces (PDF justification) and strip."""
    return _SPACES.sub(" ", text).strip()


# A run of two to five words said twice in a row (« Service gérant l'action gérant l'action »: the PDF
# repeated the end of a label).
_DOUBLED = re.compile(r"(?<!\S)((?:\S+\s+){1,4}\S+)\s+\1(?!\S)")


def undouble(text: str) -> str:
    """A run of two to five words repeated right after itself said once."""
    return _DOUBLED.sub(r"\1", text)


def clean_line(raw: str) -> str:
    """Cleaned text of one raw line: bullets normalised to '- ', spaces squashed ('' when blank)."""
    text = squash(raw)
    if not text:
        return ""
    match = _BULLET.match(text)
    if match:
        rest = text[match.end() :].strip()
        return f"- {rest}" if rest else ""
    return text


def is_page_number(raw: str) -> bool:
    return bool(_PAGE_NUMBER.match(raw))


def fold(text: str) -> str:
    """Lower-case, accent-free, apostrophe-normalised form used for matching labels and headings."""
    if text.isascii():  # nothing to fold but case and spaces
        return squash(text).casefold()
    text = text.replace("\u2019", "'").replace("\u0153", "oe").replace("\u00e6", "ae")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return squash(text).casefold()


def normalise(text: str) -> str:
    """Folded text with apostrophes and punctuation turned into spaces ("j'en peux plus" -> "j en peux plus")."""
    return " ".join(re.sub(r"[^\w]+", " ", fold(text)).split())


def slugify(text: str, max_length: int = 60) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:max_length].rstrip("-") or "section"


def make_lines(raw_lines: list[str], start: int, end: int, skip: frozenset[int] = frozenset()) -> list[Line]:
    """Cleaned non-empty lines of raw_lines[start:end] (0-based indices), numbered 1-based."""
    out: list[Line] = []
    for index in range(start, end):
        if index in skip:
            continue
        text = clean_line(raw_lines[index])
        if text:
            out.append(Line(index + 1, text))
    return out


def merge_repeated_labels(fields: list[Field]) -> list[Field]:
    """Join a field with the previous one when a page break repeated the same label."""
    merged: list[Field] = []
    for fld in fields:
        if merged and fld.label and fold(merged[-1].label) == fold(fld.label):
            merged[-1] = Field(merged[-1].label, merged[-1].lines + fld.lines)
        else:
            merged.append(fld)
    return [fld for fld in merged if fld.lines or fld.label]


# A compound word the PDF wrapped after its hyphen (« Saint-Genest-\nMalifaux », « sage-\nfemme »).
_WRAPPED_HYPHEN = re.compile(r"(?<=[^\W\d_])-[ \t]*\n\s*(?=[^\W\d_])")


def join_hyphenated(text: str) -> str:
    """Line breaks after a word's hyphen removed: « Saint-Genest-\nMalifaux » -> « Saint-Genest-Malifaux »."""
    return _WRAPPED_HYPHEN.sub("-", text)


def join_wrapped(lines: list[str]) -> str:
    """Join a title that the PDF wrapped over several lines (a compound word cut after its hyphen, whole)."""
    return squash(join_hyphenated("\n".join(lines)).replace("\n", " "))
