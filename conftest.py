"""Run each docstring's Examples as a reader copies them: with their own imports."""

import pytest
from _pytest.doctest import DoctestItem


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # doctest hands every example its module's globals, which hides a missing
    # import; the finder's dict is a copy, so clearing it leaves the module alone.
    if isinstance(item, DoctestItem):
        item.dtest.globs.clear()
