"""examples/modal_loop.py runs in the modAL environment (see .ci/run)."""

import runpy
from pathlib import Path

import pytest

pytest.importorskip("modAL.models")


def test_modal_loop_example(monkeypatch, capsys):
    monkeypatch.setenv("SKAL_EXAMPLE_QUICK", "1")
    example = Path(__file__).parents[2] / "examples" / "modal_loop.py"
    runpy.run_path(str(example), run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    # Numbered as the records: round 1 fits the initial set, then two queries.
    assert [line.split(":")[0] for line in out] == ["round 1", "round 2", "round 3"]
    assert "OOD kept" in out[-1]
