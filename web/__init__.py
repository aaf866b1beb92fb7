"""Web stage: the FastAPI chat that serves the assistant to families, professionals and trainers."""
