"""The README's quick start runs as written."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).parents[1] / "README.md"


def test_quick_start_runs_unchanged(capsys):
    text = README.read_text()
    section = text[text.index("## Quick start") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    names = {}
    exec(compile(code, "README quick start", "exec"), names)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    accuracy = [float(re.search(r"accuracy ([\d.]+)", line).group(1)) for line in lines]
    assert accuracy[-1] > 0.8  # 4 classes: chance is 0.25
    # Bought by the queries: the random initial set's OOD labels were counted.
    at_start = np.sum(names["y_pool"][names["initial"]] == "unknown")
    bought = int(re.search(r"OOD labels bought (\d+)", lines[-1]).group(1))
    assert at_start > 0 and bought == names["oracle"].n_queried_ood_ - at_start
