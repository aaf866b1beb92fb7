# Two commands for a fresh machine (see README):  make run   |   make test
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint eval bench tune

$(STAMP): pyproject.toml
	@echo "Installation de Repère et de ses dépendances dans $(VENV) (quelques minutes la première fois)…"
	test -x $(BIN)/python || $(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --progress-bar on -e '.[dev]'
	@echo "Installation terminée."
	touch $(STAMP)

install: $(STAMP)

## Install everything, build the index on first run (reused afterwards).
run: $(STAMP)
	@echo "Démarrage : l'index est construit s'il manque (progression affichée), puis chargé par chaque processus."
	$(BIN)/repere

## Unit and end-to-end tests, lint, types, and the eval floors.
test: $(STAMP)
	$(BIN)/pytest -q
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy

eval: $(STAMP)
	$(BIN)/repere eval --set evals/eval_set.jsonl --out evals/results/results.jsonl

tune: $(STAMP)
	$(BIN)/python -m evals.tune --set evals/eval_set.jsonl

bench: $(STAMP)
	$(BIN)/python -m benchmarks.retrieval
