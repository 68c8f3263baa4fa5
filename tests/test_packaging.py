"""The package's metadata: what setup.cfg declares."""

import ast
import configparser
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib.metadata import distributions, packages_distributions
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# Imported only where a user's own object needs them: a DataFrame's columns
# (pandas), an image folder (pillow, the "images" extra).
OPTIONAL = {"pandas", "pillow"}


def _declared():
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    lines = setup["options"]["install_requires"].splitlines()
    return {
        canonicalize_name(re.split(r"[<>=!~\[; ]", line.strip())[0])
        for line in lines
        if line.strip() and not line.strip().startswith("#")
    }


def _imported_top_level_modules():
    modules = set()
    for path in (ROOT / "skal_openset").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"skal_openset"}


def _installed_by(module):
    """The distributions that install the top-level `module`. Python 3.10's
    packages_distributions reads only their top_level.txt, which a wheel built
    by meson (numpy's) has not: there, those whose files hold it, as 3.11's
    finds them."""
    return packages_distributions().get(module) or [
        dist.metadata["Name"]
        for dist in distributions()
        if any(file.parts[0] in (module, f"{module}.py") for file in dist.files or ())
    ]


def test_every_third_party_import_is_a_declared_dependency():
    # joblib and scipy came only as scikit-learn's dependencies, at whatever
    # version it allows, below the floors the package is tested at.
    needed = set()
    for module in _imported_top_level_modules():
        if not (installed_by := _installed_by(module)):
            pytest.fail(f"{module} is imported but not installed")
        # as pip normalises them: lazy_loader 0.6's metadata says lazy-loader
        needed.update(canonicalize_name(name) for name in installed_by)
    assert needed - OPTIONAL - _declared() == set()


# Where the project's Python files are, beside those at the root (conftest.py):
# the package, its benchmarks, examples and tests.
FOLDERS = ("skal_openset", "benchmarks", "examples", "tests")
# The private names of other packages that those files import: none has a
# public equivalent from setup.cfg's floor up (scikit-learn 1.6 to 1.9 were
# checked), so a new one needs a reason here.
PRIVATE_IMPORTS = {
    # scikit-learn's parameter constraints, private on purpose (its issue
    # 28963): the package's errors are scikit-learn's InvalidParameterError.
    "sklearn.utils._param_validation.HasMethods",
    "sklearn.utils._param_validation.Interval",
    "sklearn.utils._param_validation.InvalidParameterError",
    "sklearn.utils._param_validation.StrOptions",
    # in scikit-learn's API reference despite the underscore, and kept in
    # sklearn.utils for other libraries (its __init__ says so)
    "sklearn.utils._safe_indexing",
    # what scikit-learn's own fits validate with, published nowhere else
    "sklearn.base._fit_context",
    "sklearn.utils.validation._check_sample_weight",
    "sklearn.utils.validation._num_samples",
    # the base of every search (grid, random, halving), which the package
    # looks through and a test subclasses; no public name
    "sklearn.model_selection._search.BaseSearchCV",
    # how StratifiedShuffleSplit sizes each class's share, which a refused
    # --test-size follows to advise the sizes that work (drawing the 99 splits
    # took 35 s for a million rows); no public name
    "sklearn.utils.extmath._approximate_mode",
    # the root conftest.py's test of a doctest's item: recent pytest (9.2
    # here) names it pytest.DoctestItem, setup.cfg's floor (7) does not
    "_pytest.doctest.DoctestItem",
}


def _is_private(part):
    """Whether a part of a dotted name is private: a leading underscore, not
    a dunder such as ``__version__``."""
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _private_imports():
    """``module.name`` of each private name of another package used in the
    root's Python files and FOLDERS' (stubs too): imported (a name, or a
    module on its path, the package itself included, as pytest's _pytest),
    or read from a name an import bound, as an attribute
    (``sklearn.utils._chunking`` after ``import sklearn``) or by a literal
    (``getattr(sklearn.utils, "_chunking")``,
    ``vars(sklearn.utils)["_chunking"]``,
    ``importlib.import_module("sklearn.utils._chunking")``,
    ``__import__("sklearn.utils", fromlist=["_chunking"])``), a relative name
    resolved as Python resolves it. The project's own modules (a benchmark's
    helpers, which tests import too) are not another package's."""
    own = {"skal_openset", *sys.stdlib_module_names}
    paths = [*ROOT.glob("*.py")]
    for folder in FOLDERS:
        paths += [*(ROOT / folder).rglob("*.py"), *(ROOT / folder).rglob("*.pyi")]
    own.update(path.stem for path in paths)
    found = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = _package_of(path)
        bound = {}  # each name an import binds: what it names, dotted
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    found.add(alias.name)
                    top = alias.name.split(".")[0]
                    bound[alias.asname or top] = alias.name if alias.asname else top
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                for alias in node.names:
                    found.add(f"{node.module}.{alias.name}")
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _is_private(node.attr):
                found.add(_dotted(node, bound))
            else:
                found.update(_named_by_literal(node, bound, package))
    return {
        name
        for name in found - {None}
        if name.split(".")[0] not in own and any(map(_is_private, name.split(".")))
    }


def _package_of(path):
    """The package that relative imports in the file `path` start from, dotted,
    or None outside a package (a test, a benchmark script)."""
    if not (path.parent / "__init__.py").exists():
        return None
    return ".".join(path.parent.relative_to(ROOT).parts)


def _resolved(name, package):
    """The module `name` imports from `package` (see importlib.util.resolve_name),
    or `name` as written where it cannot be resolved (a relative name outside
    a package, which fails as it runs)."""
    try:
        return importlib.util.resolve_name(name, package)
    except (ImportError, ValueError):
        return name


def _dotted(node, bound):
    """What `node` names, dotted, where it is a name an import bound or an
    attribute chain on one; else None."""
    chain = []
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in bound:
        return ".".join([bound[node.id], *reversed(chain)])
    return None


def _literal(node):
    """The string `node` writes literally, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _namespace_of(node, bound):
    """What `node` is the namespace of, dotted, where it is ``X.__dict__`` or
    ``vars(X)`` and X a name an import bound (or an attribute chain on one);
    else None."""
    if isinstance(node, ast.Attribute) and node.attr == "__dict__":
        return _dotted(node.value, bound)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "vars"
        and len(node.args) == 1
    ):
        return _dotted(node.args[0], bound)
    return None


def _named_by_literal(node, bound, package):
    """The names that `node` reads by a literal string: getattr's (hasattr's,
    setattr's) of what an import bound, a key of its namespace (subscripted,
    by ``.get``, or tested with ``in``), importlib.import_module's, or
    __import__'s and its fromlist's; else none. `package`: the file's, which
    a relative __import__ starts from."""
    if isinstance(node, ast.Subscript):
        owner, key = _namespace_of(node.value, bound), _literal(node.slice)
    elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In | ast.NotIn):
        owner, key = _namespace_of(node.comparators[0], bound), _literal(node.left)
    elif not isinstance(node, ast.Call):
        return []
    elif isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        owner = _namespace_of(node.func.value, bound)
        key = _literal(node.args[0]) if node.args else None
    elif isinstance(node.func, ast.Name) and node.func.id in (
        "getattr",
        "hasattr",
        "setattr",
    ):
        owner = _dotted(node.args[0], bound) if node.args else None
        key = _literal(node.args[1]) if len(node.args) > 1 else None
    else:
        return _imported_by(node, bound, package)
    return [f"{owner}.{key}"] if owner and key else []


def _imported_by(call, bound, package):
    """The modules that `call` imports by a literal name, where it is
    importlib.import_module or __import__ (and the names of its fromlist,
    its fourth argument); else none. A relative name is resolved: from
    import_module's literal `package` (or ``__package__``, the file's
    `package`), and from the file's `package` by __import__'s `level`."""
    name = _literal(call.args[0]) if call.args else None
    called = _dotted(call.func, bound)
    keywords = {k.arg: k.value for k in call.keywords}
    if isinstance(call.func, ast.Name) and call.func.id == "__import__":
        called = "builtins.__import__"
    if name is None or called not in (
        "importlib.import_module",
        "importlib.__import__",
        "builtins.__import__",
    ):
        return []
    if called == "importlib.import_module":
        given = keywords.get("package", call.args[1] if len(call.args) > 1 else None)
        if isinstance(given, ast.Name) and given.id == "__package__":
            return [_resolved(name, package)]
        return [_resolved(name, _literal(given))]
    level = keywords.get("level", call.args[4] if len(call.args) > 4 else None)
    if isinstance(level, ast.Constant) and isinstance(level.value, int):
        name = _resolved("." * level.value + name, package)
    fromlist = keywords.get("fromlist", call.args[3] if len(call.args) > 3 else None)
    if not isinstance(fromlist, ast.List | ast.Tuple):
        return [name]
    return [name, *(f"{name}.{key}" for key in map(_literal, fromlist.elts) if key)]


def test_private_names_of_other_packages_are_only_those_with_no_public_one():
    # sklearn.utils._chunking.get_chunk_n_rows gave cosine_purity its chunks,
    # which sklearn.get_config()'s working_memory gives as well; the tests
    # named the type of available_if's methods by its private module. The
    # root's conftest.py, and a private package (_pytest), went unseen, and
    # so did a private name read as an attribute (sklearn.utils._chunking),
    # by getattr or by importlib.import_module, which no import statement
    # names.
    assert _private_imports() == PRIVATE_IMPORTS


def test_private_names_are_seen_read_from_a_namespace_or_by_dunder_import(
    tmp_path, monkeypatch
):
    # A module's __dict__ or vars() read by a literal, and __import__'s
    # names, went unseen. Public names, and keys not written literally, are
    # no private name.
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "planted.py").write_text(
        "import builtins, importlib, sklearn\n"
        "import sklearn.utils as su\n"
        "from sklearn import utils\n"
        'sklearn.utils.__dict__["_chunking"]\n'
        'vars(su)["_mask"], vars(sklearn)["__version__"], vars(su)[name]\n'
        'utils.__dict__.get("_pprint"), "_tags" in vars(sklearn.utils)\n'
        '__import__("sklearn._loss"), builtins.__import__("sklearn.cluster._k")\n'
        '__import__("sklearn.utils", fromlist=["_array_api", "validation"])\n'
        'importlib.__import__("scipy", None, None, ("_lib",))\n',
        encoding="utf-8",
    )
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert _private_imports() == {
        "sklearn.utils._chunking",
        "sklearn.utils._mask",
        "sklearn.utils._pprint",
        "sklearn.utils._tags",
        "sklearn._loss",
        "sklearn.cluster._k",
        "sklearn.utils._array_api",
        "scipy._lib",
    }


def test_private_names_imported_by_a_relative_name_are_resolved(tmp_path, monkeypatch):
    # import_module's "._x" from a package was read as "._x", no package's,
    # and a relative __import__ as absolute: "_x", another package's private
    # name, where it is the file's own package's (skal_openset._x here).
    (tmp_path / "skal_openset").mkdir()
    (tmp_path / "skal_openset" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "skal_openset" / "planted.py").write_text(
        "import importlib\n"
        'importlib.import_module("._chunking", package="sklearn.utils")\n'
        'importlib.import_module(".._loss", "sklearn.utils")\n'
        'importlib.import_module("._own", __package__)\n'
        '__import__("_own", globals(), None, ["_too"], 1)\n'
        '__import__("", globals(), fromlist=["_own"], level=1)\n',
        encoding="utf-8",
    )
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert _private_imports() == {"sklearn.utils._chunking", "sklearn._loss"}


def test_the_wheel_holds_every_file_the_package_reads(tmp_path):
    # The package's names load from __init__.pyi; a wheel without it (setup.cfg
    # shipped py.typed only) installs a package that fails on import.
    pytest.importorskip("setuptools")
    source = tmp_path / "source"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(
        ROOT / "skal_openset",
        source / "skal_openset",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps"]
        + ["--no-build-isolation", "-w", str(tmp_path), str(source)],
        check=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        path.relative_to(source).as_posix()
        for path in (source / "skal_openset").rglob("*")
        if path.is_file()
    }
    assert expected - packaged == set()


def test_the_sdist_holds_no_test_suite_it_cannot_run(tmp_path):
    # setuptools adds tests/test*.py by default, without the helpers, the
    # conftest and benchmarks/ they import: 32 modules failed to collect.
    pytest.importorskip("setuptools")
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".*", "__pycache__", "benchmarks", "*.egg-info"),
    )
    subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()"]
        + ["-q", "sdist", "--formats=gztar", "-d", str(tmp_path)],
        cwd=source,
        check=True,
    )
    (sdist,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = [Path(name) for name in archive.getnames()]
    assert [name for name in names if name.parts[1:2] == ("tests",)] == []
    assert any(name.parts[1:] == ("skal_openset", "__init__.pyi") for name in names)


def test_ruff_and_mypy_check_the_oldest_python_setup_cfg_allows():
    # Unset, both checked the code as 3.11 code (mypy: the Python that runs
    # it): ruff's UP017 asked for datetime.UTC, and mypy let typing.Self and an
    # unguarded add_note pass, none of which 3.10 has.
    tomllib = pytest.importorskip("tomllib")  # 3.11+
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    floor = setup["options"]["python_requires"]
    major, minor = re.fullmatch(r">=(\d+)\.(\d+)", floor).groups()
    tools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    assert tools["ruff"].get("target-version") == f"py{major}{minor}"
    assert tools["mypy"].get("python_version") == f"{major}.{minor}"


def _fresh_python(code, *args, **env):
    """The words `code` prints in a new process on this checkout (`env` added)."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )
    return done.stdout.split()


def test_importing_the_package_loads_no_name_until_used_and_dir_lists_them():
    # dir() listed only __all__ once the names loaded lazily: no __version__.
    code = (
        "import sys, skal_openset as s; "
        "print('torch' in sys.modules, '__version__' in dir(s), "
        "set(s.__all__) <= set(dir(s)), s.MQNetQuery.__name__)"
    )
    assert _fresh_python(code) == ["False", "True", "True", "MQNetQuery"]


def test_all_lists_the_names_in_one_order_whatever_the_hash_seed():
    # Under lazy_loader 0.1 (setup.cfg's floor) the order changed with the
    # hash seed, which differs between pytest-xdist's workers: they collected
    # different tests from those parametrized by __all__, and -n 2 stopped.
    # Its list stands in, as later versions sort theirs.
    code = """
import lazy_loader

attach_stub = lazy_loader.attach_stub

def in_a_sets_order(*args):
    *functions, names = attach_stub(*args)
    return (*functions, list(set(names)))

lazy_loader.attach_stub = in_a_sets_order
import skal_openset
print(*skal_openset.__all__)
"""
    first, second = (_fresh_python(code, PYTHONHASHSEED=seed) for seed in "12")
    assert first == second


def test_a_name_once_loaded_is_the_packages_attribute(monkeypatch):
    # lazy_loader 0.1 (setup.cfg's floor) kept none: each use of the name
    # took the loading lock and swapped SIGINT's handler again. A loader that
    # keeps none stands in, as later versions keep the name themselves.
    import skal_openset
    from skal_openset._oracle import OpenSetOracle

    monkeypatch.delitem(vars(skal_openset), "OpenSetOracle", raising=False)
    monkeypatch.setattr(skal_openset, "_load", lambda name: OpenSetOracle)
    assert skal_openset.OpenSetOracle is OpenSetOracle
    assert vars(skal_openset)["OpenSetOracle"] is OpenSetOracle


def test_an_attribute_error_loading_a_name_is_an_import_error_with_its_cause(
    monkeypatch,
):
    # Raised by a dependency (skorch under python -OO), it became "cannot
    # import name 'OpenSetOracle'", its cause lost.
    import skal_openset

    def broken(name):
        raise AttributeError("'NoneType' object has no attribute 'split'")

    monkeypatch.setattr(skal_openset, "_load", broken)
    monkeypatch.delitem(vars(skal_openset), "OpenSetOracle", raising=False)
    with pytest.raises(ImportError, match="importing skal_openset.OpenSetOracle") as e:
        from skal_openset import OpenSetOracle  # noqa: F401
    assert isinstance(e.value.__cause__, AttributeError)
    assert "no attribute 'split'" in str(e.value)
    # A name the package has not is still no attribute.
    assert not hasattr(skal_openset, "no_such_name")


def test_the_stubs_all_lists_exactly_the_names_it_imports():
    # At run time __all__ comes from the stub's imports (lazy_loader), while
    # type checkers read the stub's own __all__: a name added to one only
    # would be public for one of them.
    stub = ast.parse((ROOT / "skal_openset" / "__init__.pyi").read_text("utf-8"))
    imported = {
        alias.asname or alias.name
        for node in stub.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    (listed,) = [
        ast.literal_eval(node.value)
        for node in stub.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "__all__"
    ]
    assert sorted(listed) == sorted(imported)
    assert len(listed) == len(set(listed))


_FIRST_USES_FROM_THREADS = """
import importlib, threading, time
import skal_openset

loading, most = [], 0  # the threads in import_module (nested calls repeat)
count = threading.Lock()
import_module = importlib.import_module

def slow_import(name, package=None):
    global most
    with count:
        outermost = threading.get_ident() not in loading
        loading.append(threading.get_ident())
        most = max(most, len(set(loading)))
    # A window for another thread's first use, at a thread's outermost call
    # only: the nested ones (scikit-learn's own) cost seconds, no wider window.
    if outermost:
        time.sleep(0.2)
    try:
        return import_module(name, package)
    finally:
        with count:
            loading.remove(threading.get_ident())

importlib.import_module = slow_import
names = ["ActiveLearner", "MQNetQuery", "make_mlp_classifier", "OpenSetOracle"]
threads = [threading.Thread(target=getattr, args=(skal_openset, n)) for n in names]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(most)
"""


def test_threads_first_uses_of_the_packages_names_load_one_at_a_time():
    # Loaded at once, torch's and scikit-learn's first imports broke: e.g.
    # "cannot import name 'clone' from partially initialized module", and in
    # some runs torch stayed unusable in the process.
    assert _fresh_python(_FIRST_USES_FROM_THREADS) == ["1"]


# A Ctrl-C while a first use of a name loads torch, sent from inside torch's
# import, `times` times; the import swallows the KeyboardInterrupt raised in it
# ("swallowed", as skorch's version read does) or lets it out ("raised").
_CTRL_C_WHILE_A_NAME_LOADS = """
import os, signal, sys, time
import skal_openset

times, by_import = int(sys.argv[1]), sys.argv[2]
went_on = []

class CtrlCInTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            sys.meta_path.remove(self)
            try:
                for _ in range(times):
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(0.1)  # handled apart, not as one pending signal
                went_on.append(True)
            except KeyboardInterrupt:
                if by_import == "raised":
                    raise
        return None  # torch loads as usual

sys.meta_path.insert(0, CtrlCInTorch())
try:
    from skal_openset import MQNetQuery
    stopped = False
except KeyboardInterrupt:
    stopped = True
print(stopped, bool(went_on), "MQNetQuery" in vars(skal_openset),
      signal.getsignal(signal.SIGINT) is signal.default_int_handler)
"""


@pytest.mark.parametrize(
    "times, by_import, expected",
    [
        # Swallowed in the import, the Ctrl-C was lost and the program ran on.
        (1, "swallowed", ["True", "True", "True", "True"]),
        # Held until the name has loaded; a second one stops the import.
        (2, "raised", ["True", "False", "False", "True"]),
        (0, "raised", ["False", "True", "True", "True"]),
    ],
)
def test_a_ctrl_c_while_a_name_loads_is_raised_once_it_has_loaded(
    times, by_import, expected
):
    assert _fresh_python(_CTRL_C_WHILE_A_NAME_LOADS, str(times), by_import) == expected
