"""numpydoc validation of the public docstrings, as in scikit-learn."""

import inspect

import pytest
from sklearn.utils.metaestimators import available_if
from torch import nn

import skal_openset

numpydoc_validation = pytest.importorskip("numpydoc.validate")

# scikit-learn's list (RT02, GL01, GL02), plus: See Also, Examples and the
# extended summary are optional on classes too, a parameter or return may be
# a type alone, and a summary may say "Return ..." or "Returns ...".
IGNORE = {"RT02", "GL01", "GL02", "SA01", "EX01", "ES01", "PR07", "RT03", "SS05"}


# A method under available_if is a descriptor of this type, not callable; by
# the public decorator, as its module (private) moved before.
_AVAILABLE_IF = type(available_if(bool)(lambda self: None))


def _own_members(cls):
    """Public callables and properties that ``cls`` itself defines."""
    for attr, value in sorted(vars(cls).items()):
        if attr.startswith("_"):
            continue
        kinds = (property, classmethod, staticmethod, _AVAILABLE_IF)
        if callable(value) or isinstance(value, kinds):
            yield attr, value


def _public_objects():
    for name in skal_openset.__all__:
        obj = getattr(skal_openset, name)
        if not callable(obj):  # constants such as CIFAR10_CLASSES
            continue
        yield f"skal_openset.{name}", obj, None
        if inspect.isclass(obj):
            for attr, value in _own_members(obj):
                yield f"skal_openset.{name}.{attr}", obj, value


def _exempt(cls, member):
    """Codes a (class, member) need not meet, beyond IGNORE."""
    if member is None:
        # a class that keeps torch's __init__ has only torch's *args, **kwargs
        own_init = cls is not None and "__init__" in vars(cls)
        inherited = not own_init and not any(
            "__init__" in vars(k)
            for k in cls.__mro__[1:]
            if k.__module__.startswith("skal_openset")
        )
        return {"PR01"} if inherited else set()
    if isinstance(member, property):
        return {"GL08", "PR02"}  # documented under the class's Attributes
    if issubclass(cls, nn.Module) and getattr(member, "__name__", "") == "forward":
        return {"GL08"}  # torch's convention: the class says what forward returns
    return set()


@pytest.mark.parametrize(
    "import_path, cls, member",
    list(_public_objects()),
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_docstring(import_path, cls, member):
    cls = cls if inspect.isclass(cls) else None
    skip = IGNORE | (_exempt(cls, member) if cls is not None else set())
    result = numpydoc_validation.validate(import_path)
    errors = [f"{code}: {msg}" for code, msg in result["errors"] if code not in skip]
    assert not errors, f"{import_path}:\n" + "\n".join(errors)
