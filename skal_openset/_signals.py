"""Ctrl-C held or handled for a block, SIGTERM handled as Ctrl-C, and a
command ended as SIGPIPE ends one, or with one line where its output cannot be
written: for the command line, atomic saves and the benchmark scripts."""

import contextlib
import errno
import os
import select
import signal
import stat
import sys
import threading

# What a SIGTERM handled as Ctrl-C runs while SIGINT is ignored (a job started
# in the background): the handler _atomic would give SIGINT in its blocks.
_instead_of_ignored_sigint = [signal.default_int_handler]


@contextlib.contextmanager
def ignored_sigint_handled_by(handler):
    """While SIGINT has no Python handler (ignored, or the system's default),
    let a SIGTERM handled as Ctrl-C (see :func:`sigterm_as_ctrl_c`) reach
    `handler` in the block; Ctrl-C itself keeps its action."""
    _instead_of_ignored_sigint.append(handler)
    try:
        yield
    finally:
        _instead_of_ignored_sigint.pop()


@contextlib.contextmanager
def sigint_handled_by(handler, around_own=None):
    """Let `handler` take SIGINT during the block, only in the main thread and
    while SIGINT has Python's default handler. An application's own handler
    is left alone, or, given `around_own`, replaced by ``around_own(own)``.
    While SIGINT is ignored (a job started in the background) or has the
    system's default action, it keeps it, and `handler` takes a SIGTERM
    handled as Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    current = signal.getsignal(signal.SIGINT)
    if current in (signal.SIG_IGN, signal.SIG_DFL):
        with ignored_sigint_handled_by(handler):
            yield
        return
    if current is not signal.default_int_handler:
        if around_own is None or current is None:  # None: not set from Python
            yield
            return
        handler = around_own(current)
    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, current)


@contextlib.contextmanager
def interrupts_held(second_raises=None):
    """Hold Ctrl-C during the block (see :func:`sigint_handled_by`); yield a
    list that records those received. With `second_raises`, for a block that
    may take long, a second Ctrl-C raises at once the exception that calling
    it returns (``KeyboardInterrupt``, the class, makes one)."""
    held = []

    def hold(signum, frame):
        if held and second_raises is not None:
            raise second_raises()
        held.append(signum)

    with sigint_handled_by(hold):
        yield held


@contextlib.contextmanager
def interrupts_deferred(second_raises=KeyboardInterrupt):
    """Hold Ctrl-C during the block, imports that take seconds, and raise
    ``KeyboardInterrupt`` once it ends; a second one raises at once, what
    `second_raises` makes it raise. Yields the list of those held (see
    :func:`interrupts_held`).

    Raised inside those imports, it can be swallowed (skorch reads its
    version under a bare except; CPython drops one raised in importlib's
    module-lock callback), so the program runs on, or leave a module
    half-loaded, which a later import fails on with an unrelated error (a
    RecursionError in numpy).
    """
    with interrupts_held(second_raises=second_raises) as held:
        yield held
    if held:
        raise KeyboardInterrupt


@contextlib.contextmanager
def sigterm_as_ctrl_c():
    """Handle SIGTERM in the block as SIGINT's handler of the moment would.

    ``timeout``, ``kill``, ``docker stop`` and SLURM stop a process with
    SIGTERM, which by default ends it at once: a file being saved leaves its
    hidden temporary file behind, a run its lock file. As Ctrl-C, it raises
    ``KeyboardInterrupt`` (held during the renames of a save, carried past
    skorch's fit loop), so that the same cleanup runs. Only in the main
    thread and while SIGTERM has its default action: an application's own
    handler is left alone.

    Yields
    ------
    received : list
        The SIGTERMs received, to tell them from Ctrl-C.
    """
    received = []
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield received
        return

    def as_ctrl_c(signum, frame):
        received.append(signum)
        handler = signal.getsignal(signal.SIGINT)
        if not callable(handler):  # ignored (a background job), or SIG_DFL
            handler = _instead_of_ignored_sigint[-1]
        handler(signal.SIGINT, frame)

    signal.signal(signal.SIGTERM, as_ctrl_c)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def stopped_while_starting(program):
    """Hold a Ctrl-C or SIGTERM during the block, a program's imports of
    torch, scikit-learn and skorch (see :func:`interrupts_deferred`), then end
    `program` with one line and the shell's exit status; a second Ctrl-C
    ends it so at once. Yields the list of the stops held."""
    with sigterm_as_ctrl_c() as terminated:
        said = False

        def ended():
            nonlocal said
            # Said as the second stop comes, not where a KeyboardInterrupt
            # would be caught: a script's start (benchmarks/_common.py) is
            # held through its own imports, in no block, and it was a
            # traceback there. Once: its SystemExit swallowed in an import (a
            # bare except), the line came again as the hold ended.
            stopped, status = stop_reason(KeyboardInterrupt(), terminated)
            if not said:
                said = True
                print(
                    f"{program}: stopped ({stopped}) while starting; nothing was "
                    "written.",
                    file=sys.stderr,
                )
            return SystemExit(status)

        try:
            with interrupts_deferred(second_raises=ended) as held:
                yield held
        except KeyboardInterrupt:
            raise ended() from None


@contextlib.contextmanager
def stops_held_to_the_end():
    """The whole of a command's block, its handling of stops and output
    included: yields ``hold(terminated, say)``, to call in that handling once
    the work and its output are done (`terminated`: its
    :func:`sigterm_as_ctrl_c`'s list). A Ctrl-C, or a SIGTERM handled as one,
    from then on is held until the block has ended, then
    ``say(stopped, status)`` says it and exits: raised as the handling's
    context managers ended, it was a traceback after the output. A second
    Ctrl-C raises, for an end that hangs."""
    ending = contextlib.ExitStack()
    # Set by hold: the stops held from then on, its `terminated` and `say`.
    held, sigterms, end = [], [], None

    def hold(terminated, say):
        nonlocal held, sigterms, end
        held = ending.enter_context(interrupts_held(second_raises=KeyboardInterrupt))
        sigterms, end = terminated, say

    try:
        with ending:
            yield hold
    finally:
        if held:
            end(*stop_reason(KeyboardInterrupt(), sigterms))


# 128 + SIGPIPE's number, as a shell reports a command that SIGPIPE ended
# (Windows has no SIGPIPE to name).
PIPE_CLOSED_STATUS = 141


def output_reader_quit():
    """Whether stdout's or stderr's reader has quit (``| head``): the one
    BrokenPipeError that :func:`ended_as_by_sigpipe` ends a command for.

    Another pipe broken (a worker's, a subprocess's, a socket) is a failure
    to report, not a reader that had read enough. Where the streams cannot
    be polled (Windows, a stream without a file descriptor), any
    BrokenPipeError counts as theirs.
    """
    if not hasattr(select, "poll"):
        return True
    for stream in (sys.stdout, sys.stderr):
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):  # None, closed, StringIO
            continue
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        # A pipe whose reader quit polls as an error, a socket as hung up.
        if any(
            events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0)
        ):
            return True
    return False


# 128 + the signal's number, as a shell reports a process the signal stopped.
_STOPPED_STATUS = {"Ctrl-C": 130, "SIGTERM": 143}


def stop_reason(exc, terminated):
    """What stopped a command, and its exit status (128 + the signal's
    number, as a shell reports a process the signal stopped): for Ctrl-C,
    SIGTERM (`terminated`, see :func:`sigterm_as_ctrl_c`), or the reader of
    its output quitting; None for any other `exc`."""
    if isinstance(exc, KeyboardInterrupt):
        stopped = "SIGTERM" if terminated else "Ctrl-C"
        return stopped, _STOPPED_STATUS[stopped]
    if isinstance(exc, BrokenPipeError) and output_reader_quit():
        return "the command reading its output quit", PIPE_CLOSED_STATUS
    return None


@contextlib.contextmanager
def ended_as_by_sigpipe(program=None):
    """End the block's command as SIGPIPE ends a Unix one when the command
    reading its output quits (``| head``, ``| less``): exit status 141, no
    traceback.

    Python ignores SIGPIPE: a write raises BrokenPipeError, which the block
    may catch to say what it stopped (and raise again); the output left in a
    stream's buffer was written as Python exited, which printed "Exception
    ignored ... BrokenPipeError" and exited 120, after all the work was done.
    The streams are flushed as the block ends; one whose reader quit is
    pointed at os.devnull, as Python's documentation advises, which drops
    what it still holds. A BrokenPipeError of another pipe goes on. So does
    the block's own exception (the exit after the one line that reports a
    full disk) where a stream refuses its text otherwise (``> /dev/full``):
    the stream is pointed at os.devnull too, as Python's flush at exit
    failed on it again, with a traceback and exit status 120.

    Where the block succeeded (or exited with status 0: ``--help``), a
    stream that refuses its text so ends `program` (default: the script's
    name, as argparse's) with :func:`machine_failure`'s line and exit status
    1: it was a traceback, or status 0 with the output lost. Where it exited
    with another status (a verdict: compare_cells' "differs"; a usage error;
    a Ctrl-C's 130), the line is said too, and that status kept. Where that
    status is a stop's (130, 143), what stdout's pipe cannot take at once is
    dropped, on Linux (see :func:`output_flushed`).
    """
    program = program or os.path.basename(sys.argv[0])
    try:
        try:
            yield
        except SystemExit as exc:
            if exc.code in _STOPPED_STATUS.values():  # a stop's, its line said
                _held_up_dropped()
            # Said for any status; a nonzero one is kept ("differs").
            lost = _output_lost_told(program)
            if lost and exc.code in (None, 0):
                sys.exit(1)
            raise
        except BaseException:
            _flush_streams(drop_unwritten=True)
            raise
        if _output_lost_told(program):
            sys.exit(1)
    except BrokenPipeError:
        if not output_reader_quit():
            raise
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except BrokenPipeError:
                _drop_held(stream)
        sys.exit(PIPE_CLOSED_STATUS)


def machine_failure(program, exc, kept="", rerun="rerun it"):
    """The line that ends `program` for `exc`, an OSError of the machine's, not
    of the user's input (a full disk, a folder made read-only meanwhile): what
    failed and what to do. `kept`: what is kept, said before the remedy
    ("the rounds finished are kept in <file>: "); `rerun`: how to go on."""
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)  # a quota's full too
    remedy = "free some disk space" if full else "fix that"
    # A message that ends a sentence ("...; it is as it was.") read
    # "was.; the rounds" before the advice.
    message = " ".join(str(exc).split()).removesuffix(".")
    return f"{program}: error: {message}; {kept}{remedy}, then {rerun}."


def _output_lost_told(program):
    """Flush stdout and stderr as a block ends; where one fails otherwise
    than by its reader quitting (a full disk), say so as
    :func:`output_refused` does and return True, else False. The reader
    quitting raises its BrokenPipeError."""
    try:
        _flush_streams()
    except BrokenPipeError:
        raise
    except OSError as exc:
        _refusal_told(program, exc)
        return True
    return False


def output_refused(program, exc, kept="", rerun="rerun it"):
    """End `program` for `exc`, an OSError of writing its output other than
    its reader quitting (a full disk), or another of the machine's:
    :func:`machine_failure`'s line, with its `kept` and `rerun`, and exit
    status 1."""
    _refusal_told(program, exc, kept, rerun)
    sys.exit(1)


def _refusal_told(program, exc, kept="", rerun="rerun it"):
    """Write :func:`output_refused`'s line, and drop what the streams still
    hold: Python's flush at exit would fail on it again, with a traceback
    and exit status 120."""
    with contextlib.suppress(OSError):  # stderr refuses it too
        print(machine_failure(program, exc, kept, rerun), file=sys.stderr)
    _flush_streams(drop_unwritten=True)


class _RefusalEnding:
    """stdout as :func:`output_refusal_ends` hands it to its block, or
    `stdout`'s buffer; `kept` and `rerun`: those of its line, where
    `line_of`, the wrapper whose buffer this one is, does not say them."""

    def __init__(
        self, stream, program, stdout=None, kept="", rerun="rerun it", line_of=None
    ):
        self._stream = stream
        self._program = program
        # The wrapper of stdout itself, where this one is of its buffer.
        self._stdout = self if stdout is None else stdout
        self._kept, self._rerun = kept, rerun
        # Read as the line is said: a buffer taken before keep() copied `kept`.
        self._line_of = self if line_of is None else line_of
        # The OSError of a write refused in another thread than the main one.
        self.refused = None

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def __reduce_ex__(self, protocol):
        # Copied or pickled as its stream is: copy.copy made a bare instance,
        # whose __getattr__ looked for _stream in itself (RecursionError).
        return self._stream.__reduce_ex__(protocol)

    @property  # type: ignore[misc]
    def __class__(self):
        # isinstance sees the stream's class: code that writes bytes to
        # stdout's buffer where it is an io.TextIOWrapper, and to stdout
        # itself otherwise (Pillow's Image.save), raised TypeError in the block.
        return type(self._stream)

    @property
    def buffer(self):
        # Its bytes (Pillow's image) refused raised OSError amid the block.
        return _RefusalEnding(
            self._stream.buffer, self._program, self._stdout, line_of=self
        )

    def write(self, text):
        return self._ended_if_refused(self._stream.write, text)

    def writelines(self, lines):
        return self._ended_if_refused(self._stream.writelines, lines)

    def flush(self):
        return self._ended_if_refused(self._stream.flush)

    def _ended_if_refused(self, method, *args):
        try:
            return method(*args)
        except BrokenPipeError:  # ended_as_by_sigpipe's
            raise
        except OSError as exc:
            if threading.current_thread() is not threading.main_thread():
                self._stdout.refused = exc
                raise  # sys.exit would end the thread alone: the run went on
            # Put back first: output_refused flushes stdout, which fails again.
            sys.stdout = self._stdout._stream
            # This line tells a thread's refusal too: the block's end said it again.
            self._stdout.refused = None
            line = self._line_of
            output_refused(self._program, exc, line._kept, line._rerun)


@contextlib.contextmanager
def output_refusal_ends(program=None, kept="", rerun="rerun it"):
    """End the block's `program` (default: the script's name, as argparse's)
    with :func:`output_refused`'s line and exit status 1 as a write to stdout
    fails otherwise than by its reader quitting (``> /dev/full``): what the
    block's work keeps, `kept`, and how to go on, `rerun` (see
    :func:`machine_failure`). A parser's ``--help`` refused is no work's: its
    line says neither (:class:`~skal_openset._argtypes.Parser`).

    Unbuffered (``PYTHONUNBUFFERED=1``, ``python -u``), or as a buffer
    filled or was flushed (``print(..., flush=True)``), the write raised
    OSError amid the work: a traceback, where the same output buffered to
    the end gave :func:`ended_as_by_sigpipe`'s line. Only stdout's writes
    (its buffer's too) are told so: an OSError of the work (a file it
    saves) keeps its own handling, and stderr's failure has nowhere to be
    reported. A write from another thread than the main one raises its
    OSError, as sys.exit would end that thread alone; the program ends with
    the line at the main thread's next write, or as the block ends: with
    status 1 where it succeeded or exited with status 0, with its own where
    it exited with another (a verdict, a usage error), as
    :func:`ended_as_by_sigpipe` ends it; one that raised keeps its traceback
    alone, what stdout still holds dropped.

    Yields
    ------
    keep : callable
        ``keep(kept)`` makes `kept` what the line says from then on: the
        block's work done meanwhile (a timing script's table written).
    """
    stream = sys.stdout
    if stream is None:  # closed (>&-)
        yield lambda kept: None
        return
    program = program or os.path.basename(sys.argv[0])
    sys.stdout = refusal_ending = _RefusalEnding(stream, program, None, kept, rerun)

    def keep(kept):
        refusal_ending._kept = kept

    # True where the block succeeded or exited with status 0 (--help), False
    # where it exited with another (a verdict, a usage error), None where it
    # raised: its traceback says more.
    succeeded = None
    try:
        yield keep
        succeeded = True
    except SystemExit as exc:
        succeeded = exc.code in (None, 0)
        raise
    finally:
        sys.stdout = stream
        # Unbuffered, a write refused in another thread leaves nothing behind
        # for a later flush to fail on: with no write after it, the program
        # exited 0, or with its status and no word. The work is done: its
        # `kept` may no longer hold ("no table written").
        refused = refusal_ending.refused
        if refused is not None and succeeded is None:
            # Its traceback alone, as ended_as_by_sigpipe leaves it: buffered,
            # the thread's text left in stdout failed Python's flush at exit
            # again, "Exception ignored" and status 120.
            _flush_streams(drop_unwritten=True)
        elif refused is not None:
            _refusal_told(program, refused)
            if succeeded:
                sys.exit(1)


def _flush_streams(drop_unwritten=False):
    """Flush stdout and stderr. With `drop_unwritten`, one that fails
    otherwise than by its reader quitting (a full disk) drops what it holds
    (:func:`_drop_held`) instead of raising."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # closed (2>&-)
            continue
        try:
            stream.flush()
        except BrokenPipeError:
            raise
        except OSError:
            if not drop_unwritten:
                raise
            _drop_held(stream)


def _drop_held(stream):
    """Point `stream` at os.devnull, which takes what it still holds."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, stream.fileno())
    os.close(devnull)
    stream.flush()


def output_flushed():
    """Flush stdout and stderr as a block's last output, where its Ctrl-C or
    SIGTERM is still handled and said: written by :func:`ended_as_by_sigpipe`
    once the handling was gone, its stop while a reader that stopped reading
    (a pager left open) held it up gave a traceback, or no word. A refusal (a
    full disk, the reader quit) is left to that flush, which says it as
    before: output_refusal_ends' line would say what the work keeps.

    Once the stop's line is said, its exit drops what stdout's pipe cannot
    take at once, on Linux (:func:`ended_as_by_sigpipe`): written as Python
    exited, it waited for the reader again, and the stop did not stop.
    """
    for stream in (sys.stdout, sys.stderr):
        if type(stream) is _RefusalEnding:
            stream = stream._stream
        if stream is not None:  # closed (>&-)
            with contextlib.suppress(OSError, ValueError):
                stream.flush()


def _held_up_dropped():
    """Write what stdout holds as far as its pipe takes it at once, and drop
    the rest (:func:`_drop_held`): a stop's exit does not wait for a reader
    that stopped reading.

    Written through a file description of the pipe's own, opened
    non-blocking (Linux's /proc/self/fd): stdout's is shared with the
    processes writing to the same pipe (a parent shell, the pipeline's other
    commands), whose writes O_NONBLOCK set on it made fail (EAGAIN), and a
    signal that ended this one meanwhile left them so. Where stdout is no
    pipe (a terminal, a file, a socket), or without /proc (macOS), nothing is
    dropped.
    """
    try:
        fd = sys.stdout.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
        own = os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK)
    # None, closed, StringIO; no /proc; its reader quit (ENXIO, said as the
    # block ends)
    except (AttributeError, OSError, ValueError):
        return
    stdout_fd = os.dup(fd)
    held_up = False
    try:
        os.dup2(own, fd)
        sys.stdout.flush()
    except BlockingIOError:
        held_up = True
    except OSError:  # the reader quit: said as the block ends
        pass
    finally:
        os.dup2(stdout_fd, fd)
        os.close(stdout_fd)
        os.close(own)
    if held_up:
        _drop_held(sys.stdout)
