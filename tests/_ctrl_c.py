"""The guard of the tests that raise a Ctrl-C in the process for the code
under test to handle."""

import contextlib
import signal

import pytest


@contextlib.contextmanager
def escaped_ctrl_c_fails():
    """Fail the test where a Ctrl-C it raises escapes the handling under test:
    pytest takes an escaped KeyboardInterrupt for the user's and ends the
    whole run, naming no test and running none after."""
    try:
        yield
    except KeyboardInterrupt:
        pytest.fail("the Ctrl-C escaped its handling: a traceback")


def ctrl_c_as_it_ends(monkeypatch, owner, name):
    """Make the context manager ``owner.name`` send a Ctrl-C as it ends, for
    a stop as a command's handling ends, its work and output done."""
    ends = getattr(owner, name)

    @contextlib.contextmanager
    def stopped_as_it_ends(*args):
        try:
            with ends(*args):
                yield
        finally:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(owner, name, stopped_as_it_ends)
