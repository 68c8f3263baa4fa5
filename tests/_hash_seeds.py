"""A child process whose string hashes differ from the test process's, so
that a test can run one step of a job here and the other in the child, rather
than both in children: an interpreter and its torch import, 2-4 s of CPU,
saved a test."""

import os
import subprocess
import sys


def _string_hash(env):
    """A child's ``hash`` of a string under `env` (no site: a few ms)."""
    probe = subprocess.run(
        [sys.executable, "-S", "-c", "print(hash('skal_openset'))"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(probe.stdout)


def env_with_other_string_hashes():
    """``os.environ`` with a PYTHONHASHSEED under which a child's string
    hashes differ from this process's: checked, as the environment may have
    given this process seed 1."""
    env = dict(os.environ, PYTHONHASHSEED="1")
    if _string_hash(env) == hash("skal_openset"):
        env["PYTHONHASHSEED"] = "2"
    return env
