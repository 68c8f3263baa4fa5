"""Entry point of the ``skal-openset`` command and of ``python -m skal_openset``.

The command itself is :mod:`skal_openset._cli`. Loading it (torch,
scikit-learn, skorch) takes seconds; a Ctrl-C or SIGTERM in them ends the
command with its usual one-line message, where a traceback (or, for SIGTERM,
no word) came before.
"""

import sys


def main(argv=None):
    """Run the ``skal-openset`` command with `argv` (default: ``sys.argv[1:]``)."""
    from ._signals import sigterm_as_ctrl_c  # signal and threading only: instant

    with sigterm_as_ctrl_c() as terminated:
        try:
            from ._cli import main as run_command
        except KeyboardInterrupt:
            # 128 + the signal's number, as _cli.main exits on a Ctrl-C.
            stopped, status = ("SIGTERM", 143) if terminated else ("Ctrl-C", 130)
            print(
                f"skal-openset: stopped ({stopped}) while starting; nothing was "
                "written.",
                file=sys.stderr,
            )
            sys.exit(status)
    run_command(argv)


if __name__ == "__main__":
    main()
