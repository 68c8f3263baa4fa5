"""The guard of the tests that raise a Ctrl-C in the process for the code
under test to handle."""

import contextlib
import os
import signal

import pytest
from skorch.callbacks import Callback


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


def ctrl_c_at_epoch(n, epochs):
    """A skorch callback sending the process a Ctrl-C as the `n`-th epoch it
    sees ends (counted over fits), as a user's while a net trains; it appends
    each epoch's number in its fit to the list `epochs`. A closure, not an
    attribute: a net cloned with its callbacks still appends to `epochs`."""

    class CtrlC(Callback):
        def on_epoch_end(self, net, **kwargs):
            epochs.append(len(net.history))
            if len(epochs) == n:
                os.kill(os.getpid(), signal.SIGINT)

    return CtrlC()
