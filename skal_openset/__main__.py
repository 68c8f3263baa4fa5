"""Entry point of the ``skal-openset`` command and of ``python -m skal_openset``.

The command itself is :mod:`skal_openset._cli`. Loading it (torch,
scikit-learn, skorch) takes seconds; a Ctrl-C in them ends the command with
its usual one-line message, where a traceback came before.
"""

import sys


def main(argv=None):
    """Run the ``skal-openset`` command with `argv` (default: ``sys.argv[1:]``)."""
    try:
        from ._cli import main as run_command
    except KeyboardInterrupt:
        # 128 + SIGINT's number, as _cli.main exits on a Ctrl-C.
        print(
            "skal-openset: stopped (Ctrl-C) while starting; nothing was written.",
            file=sys.stderr,
        )
        sys.exit(130)
    run_command(argv)


if __name__ == "__main__":
    main()
