"""Entry point of the ``skal-openset`` command and of ``python -m skal_openset``.

The command itself is :mod:`skal_openset._cli`. Loading it (torch,
scikit-learn, skorch) takes seconds. A Ctrl-C or SIGTERM in them is held until
they are loaded, then ends the command with its usual one-line message; a
second Ctrl-C ends it at once.
"""


def main(argv=None):
    """Run the ``skal-openset`` command with `argv` (default: ``sys.argv[1:]``)."""
    # signal and threading only: instant
    from ._signals import stopped_while_starting

    with stopped_while_starting("skal-openset"):
        from ._cli import main as run_command
    run_command(argv)


if __name__ == "__main__":
    main()
