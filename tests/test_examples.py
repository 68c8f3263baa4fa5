"""Every script of examples/ runs, on reduced sizes, and prints its result."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture
def quick(tmp_path, monkeypatch):
    """Reduced sizes; figures land in a temporary folder."""
    monkeypatch.setenv("SKAL_EXAMPLE_QUICK", "1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
def test_ood_labelling_costs(quick, capsys):
    runpy.run_path(str(EXAMPLES / "ood_labelling_costs.py"), run_name="__main__")
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert len(rows) == 8  # two strategies x four OOD costs
    # Cheap OOD labels stretch the budget, dear ones shrink it (Eq. 1).
    for strategy in ("MQ-Net", "CONF"):
        bought = [int(r[2]) for r in rows if r[0] == strategy]
        assert bought[0] >= bought[1] >= max(bought[2:])


@pytest.mark.slow
def test_selector_landscape(quick, capsys):
    runpy.run_path(str(EXAMPLES / "selector_landscape.py"), run_name="__main__")
    assert "wrote selector_landscape.png" in capsys.readouterr().out
    assert (quick / "selector_landscape.png").stat().st_size > 0


@pytest.mark.slow
def test_save_and_resume(quick):
    # A script of its own: it starts a second process to load what it saved.
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent)}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "save_and_resume.py")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("same as an uninterrupted campaign: True")
