"""Tuned files (retrieval/weights.json, assistant/calibration.json, assistant/selection.json): read them, or
fail naming the missing file. A silent default was dangerous (a refusal threshold of 0.0 never refuses).

Each file may carry a `fitted` object saying what it was fitted on (eval-set sha256, embedder, date,
held-out score); the loaders drop it, so a file written without it (by an older tuner) still loads."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

FIT_KEY = "fitted"


class TunedFileMissing(FileNotFoundError):
    """A tuned file is absent or unreadable; the message is French and names it."""


def read_tuned(path: Path, command: str) -> dict[str, Any]:
    """The tuned values of `path` (without its fit metadata); TunedFileMissing when it is absent or broken."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise TunedFileMissing(
            f"Fichier de réglage introuvable : {path}. Il fait partie du paquet (réinstallez Repère) ou se "
            f"régénère avec `{command}`."
        ) from error
    except (OSError, ValueError) as error:
        raise TunedFileMissing(
            f"Fichier de réglage illisible : {path} ({error}). Régénérez-le avec `{command}`."
        ) from error
    if not isinstance(data, dict):
        raise TunedFileMissing(f"Fichier de réglage invalide : {path} (objet JSON attendu).")
    data.pop(FIT_KEY, None)
    return data


def fit_metadata(path: Path) -> dict[str, Any] | None:
    """What a tuned file records about its fit, if anything."""
    value = json.loads(path.read_text(encoding="utf-8")).get(FIT_KEY)
    return value if isinstance(value, dict) else None


def fit_record(command: str, sets: Sequence[Path], embedder: str, held_out: Mapping[str, Any]) -> dict[str, Any]:
    """What a tuner writes under FIT_KEY: the command, each eval set with its sha256, the embedder, the date
    and the held-out figures of its cross-validation."""
    hashes = {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in sets}
    record: dict[str, Any] = {"command": command, "eval_sets": hashes, "embedder": embedder}
    if len(sets) == 1:
        record["eval_set"], record["eval_set_sha256"] = next(iter(hashes.items()))
    record.update(date=date.today().isoformat(), held_out=dict(held_out))
    return record
