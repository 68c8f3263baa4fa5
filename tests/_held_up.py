"""A program stopped while a reader that stopped reading (a pager left open,
``| sleep 1000``) holds its output up: the tests of the benchmark scripts'
stops and of the command's."""

import functools
import os
import signal
import subprocess
import sys
import time

import pytest

# Python code that defines fill_stdout(): it fills the pipe that is stdout,
# whose next write then blocks until its reader reads.
FILL_STDOUT = """
import contextlib as _contextlib, os as _os

def fill_stdout():
    _os.set_blocking(1, False)
    for size in (4096, 1):  # atomic below 4096 bytes: the pipe's last bytes
        with _contextlib.suppress(BlockingIOError):
            while True:
                _os.write(1, b"x" * size)
    _os.set_blocking(1, True)
"""

# Its output dropped through a description of stdout's pipe of its own, which
# Linux's /proc opens: elsewhere the program waits for the reader.
DROPS_HELD_UP = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd"
)

# Only a hang reaches it: the program makes its flag, then ends at once after
# the signal.
HANG_GUARD_SECONDS = 120


def stopped_held_up(program, signum, flag, *args, **kwargs):
    """Run the Python code `program` after :data:`FILL_STDOUT`'s with the
    arguments `flag` and `args`, its stdout a pipe that is never read, and
    send it `signum` once it has made the file `flag`. Its exit status and
    stderr once it ends, its reader still blocked; `kwargs` go to Popen."""
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-c", FILL_STDOUT + program, str(flag), *map(str, args)],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        # A process started from a background job inherits SIGINT ignored.
        preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL),
        **kwargs,
    )
    os.close(write_end)
    try:
        # Bounded too: a program held up before its flag would hang CI.
        deadline = time.monotonic() + HANG_GUARD_SECONDS
        while not flag.exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, f"no {flag} made"
            time.sleep(0.01)
        process.send_signal(signum)
        # Read to its end: stderr is not what holds it up.
        stderr = process.communicate(timeout=HANG_GUARD_SECONDS)[1]
        return process.returncode, stderr
    finally:
        process.kill()
        process.wait()
        os.close(read_end)
