"""The tutorials are the first users: each must run end to end and write its figures.

The full runs are slow (``-m slow``); a tutorial that reads ``RECON_TUTORIAL_QUICK`` (tutorial 3: a 48×48
crop, fewer noise levels and iterations) also runs in its quick mode in the fast suite.
"""
import runpy
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("[0-9][0-9]_*.py"))
QUICK = [p for p in TUTORIALS if "RECON_TUTORIAL_QUICK" in p.read_text()]


def _run(path, tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_TUTORIAL_OUT", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(path), run_name="__main__")
    figures = list(tmp_path.glob("*.png"))
    assert figures and all(f.stat().st_size > 0 for f in figures)


def test_tutorials_exist():
    assert len(TUTORIALS) >= 2 and QUICK


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs(path, tmp_path, monkeypatch):
    monkeypatch.delenv("RECON_TUTORIAL_QUICK", raising=False)
    _run(path, tmp_path, monkeypatch)


@pytest.mark.parametrize("path", QUICK, ids=lambda p: p.stem)
def test_tutorial_runs_quick(path, tmp_path, monkeypatch):
    monkeypatch.setenv("RECON_TUTORIAL_QUICK", "1")
    _run(path, tmp_path, monkeypatch)
