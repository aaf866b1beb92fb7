"""One parser per document family: raw text -> list of Sections."""
