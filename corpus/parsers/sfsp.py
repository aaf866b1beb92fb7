"""SFSP « Fiche action » questionnaire (Markdown export): numbered questions as headings, HTML
checkbox tables where only the checked boxes are answers -> one Section per fiche."""

from __future__ import annotations

import re

from corpus.clean import clean_line, squash
from corpus.model import Field, Line, Section

_HEADING = re.compile(r"^\s*#{1,6}\s+(.*\S)\s*$")
_BOLD_QUESTION = re.compile(r"^\s*\*\*(\d+\).*?)\*\*(.*)$")
_PLAIN_QUESTION = re.compile(r"^\s*(\d{1,2}\)\s+[^?]*\?)(.*)$")
_FICHE = re.compile(r"^\s*#\s+Fiche action\s+(\d+)", re.IGNORECASE)
_CHECKED = re.compile(r"<input\s+checked[^>]*>", re.IGNORECASE)
_INPUT = re.compile(r"<input[^>]*>", re.IGNORECASE)
_TAGS = re.compile(r"</?(?:b|i|strong|em|br|small|u|sup|sub)\s*/?>", re.IGNORECASE)
_OPTION = re.compile(r"<input([^>]*)>([^<]*)", re.IGNORECASE)
_OPTION_TEXT = re.compile(r"<input[^>]*>\s*(?:<b>)?\s*[^\s<\t]", re.IGNORECASE)  # a box followed by its label
_SEPARATOR = re.compile(r"^[\s|:-]*$")
# A line of the form's numbered options (« - 1  Individuelle (…)      2  Collective (…) »): the number and
# two spaces open each option. The export lost the boxes: the options in bold are the answers given.
_OPTIONS = re.compile(r"^\s*(?:-\s+)?\d{1,2}\s{2,}\S")
_NEXT_OPTION = re.compile(r"\s{2,}(?=\d{1,2}\s{2,}\S)")
# The form's prompt after a question (« … ? Précisez votre réponse »), not part of it.
_QUESTION_TAIL = re.compile(r"\s*(?:Précisez votre réponse|Plusieurs réponses possibles)\s*\.?\s*$", re.IGNORECASE)
# What the form asks the person filling it in to do, not an answer.
_INSTRUCTION = re.compile(
    r"^[\s*_-]*(?:vous pouvez joindre en complément|précisez votre réponse|que ce soit au niveau de sa conception"
    r"|de manière générale, éléments ou commentaires|dont liens utiles)",
    re.IGNORECASE,
)


def strip_markdown(text: str) -> str:
    text = _TAGS.sub("", text)
    text = re.sub(r"\*{1,2}([^*]+)\*{1,2}", r"\1", text)
    text = text.replace("\\_", "_").replace("\\", "")
    return squash(text)


def bold_options(line: str) -> list[str]:
    """The options of a numbered option line that are in bold (the answers), without their numbers."""
    body = re.sub(r"^\s*-\s+", "", line.rstrip())
    bold = [strip_markdown(re.sub(r"^\d{1,2}\s{2,}", "", o)) for o in _NEXT_OPTION.split(body) if "**" in o]
    return [option for option in bold if option]


def checked_answers(row: str) -> list[str]:
    """The checked options of one Markdown table row ('' cells and unchecked boxes are dropped)."""
    answers = []
    for cell in row.strip().lstrip("-").split("|"):
        if _CHECKED.search(cell):
            answer = strip_markdown(_INPUT.sub("", cell))
            answers.append(re.sub(r"^\d+\s+", "", answer))
    return answers


def inline_checked(line: str) -> str | None:
    """A line of inline boxes ("Financièrement 1 [x] Oui 2 [ ] Non") -> "Financièrement : Oui" (None if unchecked)."""
    first = line.lower().index("<input")
    prefix = strip_markdown(re.sub(r"\s*\d+\s*$", "", line[:first])).lstrip("- ").strip()
    chosen = [
        re.sub(r"\s*\d+\s*$", "", strip_markdown(text)).strip()
        for attrs, text in _OPTION.findall(line)
        if "checked" in attrs.lower()
    ]
    answer = ", ".join(c for c in chosen if c)
    if not answer:
        return None
    return f"- {prefix} : {answer}" if prefix else f"- {answer}"


def _heads_box_table(raw_lines: list[str], index: int) -> bool:
    """Whether a tab-separated line names the columns of a table of boxes (« Familles, parents, enfants »,
    « Professionnels ») whose rows carry no label after their boxes: the next line is such a row."""
    following = raw_lines[index + 1] if index + 1 < len(raw_lines) else ""
    return "\t" in following and "<input" in following.lower() and not _OPTION_TEXT.search(following)


def parse(text: str, doc_id: str, source: str, territory: str | None = None) -> list[Section]:
    raw_lines = text.splitlines()
    number = None
    fields: list[Field] = []
    label, lines = "", list[Line]()
    titles: list[str] = []
    unchosen = False  # the last option line had no option chosen
    for index, raw in enumerate(raw_lines):
        line_number = index + 1
        if m := _FICHE.match(raw):
            number = m.group(1)
            continue
        heading = _HEADING.match(raw)
        bold = _BOLD_QUESTION.match(raw) or _PLAIN_QUESTION.match(raw)
        if heading or bold:
            fields.append(Field(label, tuple(lines)))
            if heading:
                label, lines = _QUESTION_TAIL.sub("", strip_markdown(heading.group(1))), []
            else:
                assert bold is not None
                label, lines = _QUESTION_TAIL.sub("", strip_markdown(bold.group(1))), []
                rest = re.sub(r"^\*[^*]*\*", "", bold.group(2).strip())  # drop "*Plusieurs réponses possibles*"
                rest = strip_markdown(rest)
                if rest:
                    lines.append(Line(line_number, rest))
            if len(fields) <= 3 and label and not label[0].isdigit():
                titles.append(label)
            continue
        if "|" in raw and "<input" in raw:
            lines.extend(Line(line_number, f"- {answer}") for answer in checked_answers(raw))
            continue
        if "|" in raw and _SEPARATOR.match(raw):
            continue
        if "\t" in raw and "<input" not in raw.lower() and _heads_box_table(raw_lines, index):
            continue  # the column names of a table of boxes without labels: its boxes are not read either
        if "<input" in raw.lower():
            rendered = inline_checked(_TAGS.sub("", raw))
            if rendered:
                lines.append(Line(line_number, rendered))
            continue
        if _OPTIONS.match(raw):  # a line of the form's options: only those in bold were chosen
            chosen = bold_options(raw)
            lines.extend(Line(line_number, f"- {answer}") for answer in chosen)
            unchosen = not chosen
            continue
        if unchosen and re.match(r"^\s{2,}-\s", raw):
            continue  # the sub-options of an option not chosen
        unchosen = False
        if _INSTRUCTION.match(raw):
            continue
        text_line = clean_line(strip_markdown(raw))
        if text_line:
            lines.append(Line(line_number, text_line))
    fields.append(Field(label, tuple(lines)))
    fields = [f for f in fields if f.lines]
    # The action's name is the paragraph under "Intitulé de l'action".
    name = next((f.lines[0].text for f in fields if f.label.lower().startswith("intitulé")), "")
    title = name or " – ".join(titles) or "Fiche action"
    first = min(line.number for f in fields for line in f.lines)
    return [
        Section(
            doc_id=doc_id,
            section_id=f"{doc_id}/fiche-{number}" if number else f"{doc_id}/fiche",
            source=source,
            kind="fiche",
            number=number,
            title=title,
            start_line=min(first, next((i + 1 for i, r in enumerate(raw_lines) if r.strip()), 1)),
            end_line=max(line.number for f in fields for line in f.lines),
            fields=tuple(fields),
            territory=territory,
            breadcrumb=tuple(titles[:1]),
        )
    ]
