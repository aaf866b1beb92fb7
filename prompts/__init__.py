"""Prompt templates (Jinja2 files) for the answer engine's audience profiles."""
