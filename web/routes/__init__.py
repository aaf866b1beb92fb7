"""HTTP routes: the Repère JSON API and the OpenAI-compatible chat-completions endpoint."""
