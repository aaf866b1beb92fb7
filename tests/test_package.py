"""The package as a user gets it: the wheel built from pyproject.toml holds every data file the code reads,
and installed (not editable) in a fresh virtual environment it answers a question with a cited source. The
tuned files are required (a missing one is an error naming it) and record what they were fitted on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from assistant.answerable import CALIBRATION_FILE, Calibration
from assistant.compose import SELECTION_FILE, Selection
from retrieval.retrieve import WEIGHTS_FILE, Weights
from retrieval.tuned import TunedFileMissing, fit_metadata

from .conftest import ROOT

PACKAGES = ("assistant", "corpus", "prompts", "retrieval", "web", "evals", "repere")
SKIPPED = {"__pycache__", "results"}


def source_files() -> list[str]:
    """Every file of the packages in the source tree, as the wheel should name it."""
    names = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and not SKIPPED & set(path.relative_to(ROOT).parts) and path.suffix != ".pyc":
                names.append(path.relative_to(ROOT).as_posix())
    return sorted(names)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a clean copy of the sources (no stale build/ folder can leak into it)."""
    tree = tmp_path_factory.mktemp("source")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns(*SKIPPED))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(tree)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    return next(out.glob("repere-*.whl"))


def test_the_wheel_carries_every_template_static_prompt_profile_and_data_file(wheel: Path) -> None:
    """Before: none of the templates, static files, prompts, profiles, orientation.toml or tuned JSON."""
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in source_files() if name not in names]
    assert not missing, missing


def test_a_fresh_non_editable_install_answers_with_a_citation(wheel: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(fresh)
    python = fresh / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr
    # The dependencies (pinned in pyproject.toml) come from the test's own environment, appended to the new
    # one's path; the project itself only from the wheel (the editable install's hook is not run from there).
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "deps-from-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"REPERE_DATA_DIR": str(tmp_path / "data")}
    where = subprocess.run(
        [str(python), "-c", "import assistant, web; print(assistant.__file__, web.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    ).stdout
    assert where.count(site) == 2, where  # the installed copy, not the source tree
    asked = subprocess.run(
        [str(fresh / "bin" / "repere"), "ask", "c'est quoi la CRIP ?", "--audience", "professionnel", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=900,
    )
    assert asked.returncode == 0, asked.stderr[-3000:]
    answer = json.loads(asked.stdout)
    assert not answer["refused"] and answer["citations"], answer
    assert answer["citations"][0]["source"].startswith("corpus/sources/")


@pytest.mark.parametrize(
    ("load", "name"),
    [(Weights.load, "weights.json"), (Calibration.load, "calibration.json"), (Selection.load, "selection.json")],
)
def test_a_missing_tuned_file_is_an_error_naming_it(tmp_path: Path, load: object, name: str) -> None:
    """Before: silent defaults (a refusal threshold of 0.0 never refuses)."""
    missing = tmp_path / name
    with pytest.raises(TunedFileMissing, match=f"introuvable : {missing}"):
        load(missing)  # type: ignore[operator]


def test_tuned_files_record_their_fit_and_older_files_still_load(tmp_path: Path) -> None:
    for path, load in (
        (WEIGHTS_FILE, Weights.load),
        (CALIBRATION_FILE, Calibration.load),
        (SELECTION_FILE, Selection.load),
    ):
        fit = fit_metadata(path)
        assert fit is not None and {"embedder", "date", "held_out"} <= set(fit), path
        assert "eval_set_sha256" in fit or fit.get("eval_sets"), path  # one set's hash, or each set's
        older = tmp_path / path.name  # as the tuners wrote it before: no `fitted`
        data = json.loads(path.read_text(encoding="utf-8"))
        del data["fitted"]
        older.write_text(json.dumps(data), encoding="utf-8")
        assert load(older) == load(path)  # type: ignore[operator]


def test_tuners_write_what_they_were_fitted_on(tmp_path: Path) -> None:
    from retrieval.tuned import fit_record

    one = tmp_path / "set.jsonl"
    one.write_text('{"id": "a"}\n', encoding="utf-8")
    record = fit_record("python -m evals.tune --write", [one], "hashing", {"hit@5": [0.95, 0.97]})
    assert record["eval_set_sha256"] == record["eval_sets"][str(one)] and len(record["eval_set_sha256"]) == 64
    assert record["embedder"] == "hashing" and record["held_out"] == {"hit@5": [0.95, 0.97]} and record["date"]
    other = tmp_path / "other.jsonl"
    other.write_text('{"id": "b"}\n', encoding="utf-8")
    both = fit_record("python -m evals.tune_answers --write", [one, other], "hashing", {})
    assert set(both["eval_sets"]) == {str(one), str(other)} and "eval_set_sha256" not in both
