"""The README's quick start runs as written."""

import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_quick_start_runs_unchanged(capsys):
    text = README.read_text()
    section = text[text.index("## Quick start") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README quick start", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    accuracy = [float(re.search(r"accuracy ([\d.]+)", line).group(1)) for line in lines]
    assert accuracy[-1] > 0.8  # 4 classes: chance is 0.25
