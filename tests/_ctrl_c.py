"""The guard of the tests that raise a Ctrl-C in the process for the code
under test to handle."""

import contextlib

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
