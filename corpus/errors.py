"""Domain errors of the corpus stage; their messages are shown to users, so they are in French."""


class IngestError(ValueError):
    """A file that cannot be added to the corpus (unknown type, empty, binary, unreadable PDF)."""
