"""Corpus stage: raw source files -> typed sections with provenance."""
