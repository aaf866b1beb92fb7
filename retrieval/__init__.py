"""Retrieval stage: sections -> chunks -> chromadb + French BM25 -> ranked sections for a question."""
