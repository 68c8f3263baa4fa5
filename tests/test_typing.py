"""Every public callable exported in ``__all__`` carries complete type hints."""

import inspect

import pytest

import skal_openset


def _public_callables():
    """Yield ``(qualified name, callable)`` for each public function and method."""
    for name in skal_openset.__all__:
        obj = getattr(skal_openset, name)
        if inspect.isfunction(obj):
            yield name, obj
        elif inspect.isclass(obj):
            for attr, member in vars(obj).items():
                # Only methods this package defines; inherited ones belong to
                # scikit-learn, skorch or torch.
                if attr.startswith("_") and attr not in ("__init__", "__call__"):
                    continue
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if inspect.isfunction(member):
                    yield f"{name}.{attr}", member


@pytest.mark.parametrize(
    "func", [f for _, f in _public_callables()], ids=[n for n, _ in _public_callables()]
)
def test_public_callable_is_fully_annotated(func):
    signature = inspect.signature(func)
    missing = [
        p.name
        for p in signature.parameters.values()
        if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty
    ]
    assert not missing, f"parameters without a type hint: {missing}"
    assert signature.return_annotation is not inspect.Signature.empty, "no return hint"


def test_public_api_has_callables():
    assert len(list(_public_callables())) > 50
