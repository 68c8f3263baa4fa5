"""Every script of examples/ runs, on reduced sizes, and prints its result."""

import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture
def quick(tmp_path, monkeypatch):
    """Reduced sizes; figures land in a temporary folder; torch's thread
    count, which an example sets for itself, put back after."""
    monkeypatch.setenv("SKAL_EXAMPLE_QUICK", "1")
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    yield tmp_path
    torch.set_num_threads(threads)


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
    from matplotlib.colors import same_color, to_rgba

    script = runpy.run_path(
        str(EXAMPLES / "selector_landscape.py"), run_name="__main__"
    )
    assert "wrote selector_landscape.png" in capsys.readouterr().out
    assert (quick / "selector_landscape.png").stat().st_size > 0
    _assert_ignored_in_a_checkout(quick)
    # The pool's entry was a white dot at alpha 0.4 on the legend's white.
    legend = script["ax"].get_legend()
    entry = dict(zip((t.get_text() for t in legend.get_texts()), legend.legend_handles))
    *colour, alpha = to_rgba(entry["pool"].get_facecolor()[0])
    *frame, _ = to_rgba(legend.get_frame().get_facecolor())
    shown = [alpha * c + (1 - alpha) * f for c, f in zip(colour, frame)]
    assert max(abs(s - f) for s, f in zip(shown, frame)) > 0.3
    # The queried examples, orange and red, were lost on the high scores'
    # yellow to a reader with a red-green colour deficiency: outlined now.
    for name in ("queried, IN", "queried, OOD"):
        assert same_color(entry[name].get_edgecolor(), "black")


@pytest.mark.slow
def test_save_and_resume(quick, capsys, monkeypatch):
    # It starts a second process, on this checkout, to load what it saved.
    monkeypatch.setenv("PYTHONPATH", str(EXAMPLES.parent))
    monkeypatch.setattr(sys, "argv", ["save_and_resume.py"])
    runpy.run_path(str(EXAMPLES / "save_and_resume.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert out.strip().endswith("same as an uninterrupted campaign: True")
    # It named a temporary folder, gone by the time it was read.
    assert "temporary folder" in out
    assert tempfile.gettempdir() not in out


@pytest.mark.slow
def test_own_csv_random_forest(quick, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["own_csv_random_forest.py"])  # its stand-in
    runpy.run_path(str(EXAMPLES / "own_csv_random_forest.py"), run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    assert "'unknown'" in out[0] and (quick / "named_digits.csv").exists()
    _assert_ignored_in_a_checkout(quick)
    rounds = [line for line in out if line.startswith("round")]
    # Numbered as the records: round 1 fits the initial set (it was the first
    # query's), then three queries.
    assert [line.split(":")[0] for line in rounds] == [
        f"round {k}" for k in range(1, 5)
    ]
    accuracy = [float(line.rsplit(" ", 1)[1]) for line in rounds]
    assert accuracy[-1] > 0.8
    assert out[-1].startswith("predicted: [")


@pytest.mark.slow
@pytest.mark.parametrize("satimage", ["found", "missing"])
def test_tabular_mlp_pipeline(quick, capsys, satimage):
    # It fell back to digits without a word when satimage was not found.
    script = EXAMPLES / "tabular_mlp_pipeline.py"
    table = EXAMPLES.parents[1] / "shared" / "data" / "tabular" / "satimage.csv"
    if satimage == "missing":  # a copy, where ../shared holds no data
        script = quick / "checkout" / "examples" / script.name
        script.parent.mkdir(parents=True)
        script.write_text((EXAMPLES / script.name).read_text())
        table = quick / "shared" / "data" / "tabular" / "satimage.csv"
    elif not table.exists():
        pytest.skip(f"no {table}")
    runpy.run_path(str(script), run_name="__main__")
    data, split, *out = capsys.readouterr().out.splitlines()
    found = satimage == "found"
    assert data == (
        f"satimage from {table}" if found else f"digits (scikit-learn's): no {table}"
    )
    assert split.startswith("OpenSetSplit(")
    assert [line.split()[0] for line in out] == ["MQ-Net", "RANDOM"]


@pytest.mark.slow
def test_images_cnn(quick, capsys):
    runpy.run_path(str(EXAMPLES / "images_cnn.py"), run_name="__main__")
    data, *out = capsys.readouterr().out.splitlines()
    assert data == "digits (scikit-learn's): quick mode"  # it says what it ran on
    assert [line.split()[0] for line in out] == ["MQ-Net", "CONF"]
    assert all(float(line.split()[3].rstrip(",")) > 0.25 for line in out)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["images_cnn.py", "tabular_mlp_pipeline.py"])
def test_an_example_copied_one_folder_below_the_root_runs(quick, name):
    # Looking for ../shared with Path(__file__).parents[2] raised an
    # IndexError in /app (a Docker WORKDIR), instead of falling back to digits.
    path = f"/app/{name}"
    code = compile((EXAMPLES / name).read_text(), path, "exec")
    said = []

    class DataLineSaid(Exception):
        pass

    def print_then_stop(*args, **kwargs):
        # The data line, the first, is all this test reads: the example
        # stops there, not after its campaigns (30 s of a loaded CI machine).
        said.append(" ".join(map(str, args)))
        raise DataLineSaid

    with pytest.raises(DataLineSaid):
        exec(code, {"__file__": path, "__name__": "__main__", "print": print_then_stop})
    (data,) = said
    assert data.startswith("digits (scikit-learn's)") or "/shared/data/" in data


def _assert_ignored_in_a_checkout(folder):
    """What an example wrote into `folder` is ignored when run from the
    repository root, as its docstring says to run it (it showed up in
    git status)."""
    root = EXAMPLES.parent
    if not (root / ".git").exists():
        return  # a copy of the tree: nothing shows in a git status there
    for path in folder.iterdir():
        ignored = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", path.name], cwd=root
        )
        assert ignored.returncode == 0, f"{path.name} is not in .gitignore"


@pytest.mark.parametrize("sklearn_version", [None, "1.8.0"])
def test_the_modal_example_says_what_to_install(quick, monkeypatch, sklearn_version):
    # Without modAL it ended in a bare ModuleNotFoundError; with scikit-learn
    # 1.8, in a TypeError from inside modAL's teach after the first round.
    import types

    import sklearn

    if sklearn_version is None:  # modAL not installed
        monkeypatch.setitem(sys.modules, "modAL", None)
        monkeypatch.setitem(sys.modules, "modAL.models", None)
        said = "This example needs modAL: pip install"
    else:
        modal = types.ModuleType("modAL.models")
        modal.ActiveLearner = object
        monkeypatch.setitem(sys.modules, "modAL", types.ModuleType("modAL"))
        monkeypatch.setitem(sys.modules, "modAL.models", modal)
        monkeypatch.setattr(sklearn, "__version__", sklearn_version)
        said = "modAL 0.4.2.1 fails with scikit-learn 1.8.0"
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(EXAMPLES / "modal_loop.py"), run_name="__main__")
    assert str(exit_.value.code).startswith(said)
    assert 'pip install "scikit-learn>=1.7,<1.8"' in str(exit_.value.code)
