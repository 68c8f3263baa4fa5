"""Entry point of the ``skal-openset`` command and of ``python -m skal_openset``.

The command line is parsed first, by :mod:`skal_openset._cli_start`, which
loads nothing heavy: ``--help``, ``--version`` and a usage error answer at
once. The command itself is :mod:`skal_openset._cli`. Loading it (torch,
scikit-learn, skorch) takes seconds. A Ctrl-C or SIGTERM in them is held until
they are loaded, then ends the command with its usual one-line message; a
second Ctrl-C ends it at once. One once the command's work and output are
done is held until its handling of stops and output has ended, then said.
"""


def main(argv=None):
    """Run the ``skal-openset`` command with `argv` (default: ``sys.argv[1:]``)."""
    # The parser and the streams alone, no torch or scikit-learn: instant
    from ._cli_start import _unencodable_escaped, build_parser
    from ._signals import (
        ended_as_by_sigpipe,
        stopped_while_starting,
        stops_held_to_the_end,
    )

    with (
        stops_held_to_the_end() as hold_to_the_end,
        _unencodable_escaped(),
        ended_as_by_sigpipe("skal-openset"),
    ):
        parser = build_parser()
        args = parser.parse_args(argv)
        with stopped_while_starting(parser.prog):
            from ._cli import run_command
        run_command(parser, args, hold_to_the_end)


if __name__ == "__main__":
    main()
