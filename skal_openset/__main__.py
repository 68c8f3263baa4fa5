"""Entry point of the ``skal-openset`` command and of ``python -m skal_openset``.

The command itself is :mod:`skal_openset._cli`. Loading it (torch,
scikit-learn, skorch) takes seconds. A Ctrl-C or SIGTERM in them is held until
they are loaded, then ends the command with its usual one-line message; a
second Ctrl-C ends it at once.
"""

import sys


def main(argv=None):
    """Run the ``skal-openset`` command with `argv` (default: ``sys.argv[1:]``)."""
    # signal and threading only: instant
    from ._signals import interrupts_held, sigterm_as_ctrl_c, stop_reason

    with sigterm_as_ctrl_c() as terminated:
        # Held: raised inside their imports, a KeyboardInterrupt can be
        # swallowed (skorch reads its version under a bare except), and the
        # command runs on; or it leaves a module half-loaded, which a later
        # import fails on with an unrelated error (a RecursionError in numpy).
        try:
            with interrupts_held(second_raises=True) as held:
                from ._cli import main as run_command
            interrupted = bool(held)
        except KeyboardInterrupt:  # a second Ctrl-C
            interrupted = True
        if interrupted:
            stopped, status = stop_reason(KeyboardInterrupt(), terminated)
            print(
                f"skal-openset: stopped ({stopped}) while starting; nothing was "
                "written.",
                file=sys.stderr,
            )
            sys.exit(status)
    run_command(argv)


if __name__ == "__main__":
    main()
