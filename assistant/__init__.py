"""Assistant stage: question -> grounded answer (issue 3); also hosts the settings and the CLI."""
