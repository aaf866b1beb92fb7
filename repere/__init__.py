"""Entry points, on top of the pipeline: the `repere` command (`cli.py`), the settings (`settings.py`)
and the wiring (`service.py`: settings -> retriever and engine; `serve.py`: settings -> the web app).
They import every layer below them (corpus, retrieval, assistant, web, evals); nothing below imports them.
"""
