"""Stops of a command: Ctrl+C, SIGTERM and unexpected errors, each shown as one message.

``python -m analysis <command>`` runs the command through :func:`run` (``analysis.cli``):

- SIGINT (Ctrl+C) and SIGTERM become :class:`Stopped` in the main thread, so every ``finally``
  and ``except BaseException`` on the way out runs: temporary folders are removed, kernels and
  worker processes are stopped, a swap of outputs in progress is finished or undone. The user
  sees one Vietnamese line (what was being done, that no output is half-written, to run the
  command again), the exit code is 130 (SIGINT) or 143 (SIGTERM).
- From the first signal on, the process's standard error goes to the command's log file
  (:func:`set_log`: ``<output folder>/_logs/<command>.log``): whatever a library prints while
  the process winds down (a thread's traceback, asyncio's warnings) is kept there, and the
  user's terminal gets only the one line. Later signals are ignored: the cleanup goes on.
- Any other exception that reaches the top: one Vietnamese line naming what was being done
  (:func:`doing`), the traceback to the log file only, exit code 3.
- :func:`deferred`: a signal that arrives inside it (the two renames of an output swap) takes
  effect at its end, so a swap is never half done.

Only the main thread receives signals (Python runs handlers there), so the work that waits
for something long (a notebook in its kernel) runs in other threads and the main thread stays
free to be interrupted (``analysis.batch``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import os
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

EXIT_ERROR = 1
EXIT_INTERNAL = 3
EXIT_SIGINT = 128 + signal.SIGINT  # 130
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143
LOG_DIR = "_logs"
#: A log file grows to this size, then the previous one is kept as ``<name>.1``.
LOG_MAX_BYTES = 1 << 20
_WHERE = "_hocbaso_doing"


class Stopped(SystemExit):
    """A stop asked by a signal. A ``SystemExit`` so that ``except Exception`` never swallows
    it and a process that ends with it (a worker) exits quietly with code 128 + signal."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(128 + int(signum))
        self.signum = int(signum)

    def __reduce__(self):  # comes back from a worker process
        return (type(self), (self.signum,))


class _State:
    def __init__(self) -> None:
        self.signum: int | None = None  # the first stop signal received
        self.where = ""  # what was being done when it came
        self.pending: int | None = None  # a signal that came inside deferred()
        self.deferring = 0
        self.log_path: Path | None = None
        self.command = ""
        self.saved_stderr: int | None = None  # the terminal's fd, once stderr is diverted
        self.lock = threading.RLock()  # the handler may run while the main thread holds it
        self.doing: dict[int, list[str]] = {}  # thread -> labels, outermost first
        self.on_stop: list[Callable[[], None]] = []


_S = _State()


# --------------------------------------------------------------------------- what is being done


@contextlib.contextmanager
def doing(label: str) -> Iterator[None]:
    """Name what the current thread is doing (``"chạy kỳ 2024-04-19"``, ``"notebook
    10_clean.ipynb"``), for the message of a stop or of an unexpected error. An exception that
    leaves the block carries the description of that moment."""
    ident = threading.get_ident()
    with _S.lock:
        _S.doing.setdefault(ident, []).append(label)
    try:
        yield
    except BaseException as exc:
        if not hasattr(exc, _WHERE):
            with contextlib.suppress(Exception):  # some exceptions take no attribute
                setattr(exc, _WHERE, describe())
        raise
    finally:
        with _S.lock:
            labels = _S.doing.get(ident, [])
            if labels:
                labels.pop()
            if not labels:
                _S.doing.pop(ident, None)


def describe() -> str:
    """What every thread is doing, e.g. ``"chạy kỳ 2024-04-19, notebook 20_coverage.ipynb,
    notebook 30_scale_infrastructure.ipynb"`` (empty when nothing was named)."""
    with _S.lock:
        stacks = [list(labels) for labels in _S.doing.values()]
    seen: list[str] = []
    for labels in stacks:
        for label in labels:
            if label not in seen:
                seen.append(label)
    return ", ".join(seen)


def describe_error(exc: BaseException) -> str:
    """An error in Vietnamese, without library text (that goes to the log)."""
    if isinstance(exc, MemoryError):
        return "máy hết bộ nhớ"
    if isinstance(exc, OSError):
        name = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        known = {
            errno.ENOSPC: "ổ đĩa đã đầy",
            errno.EACCES: "không có quyền đọc hoặc ghi",
            errno.EPERM: "không có quyền đọc hoặc ghi",
            errno.ENOENT: "không tìm thấy tệp hoặc thư mục",
            errno.EROFS: "ổ đĩa chỉ cho đọc",
        }
        if exc.errno in known:
            return known[exc.errno] + name
        code = errno.errorcode.get(exc.errno or 0, "")
        return f"lỗi đọc/ghi tệp{f' {code}' if code else ''}{name}"
    return f"lỗi trong chương trình ({type(exc).__name__})"


# --------------------------------------------------------------------------- log file


def set_log(path: Path | str | None, command: str | None = None) -> None:
    """The log file of this command (``<output folder>/_logs/<command>.log``); created only
    when there is something to write."""
    _S.log_path = Path(path) if path else None
    if command:
        _S.command = command


def log_path() -> Path:
    """The log file (a file in the temporary folder until the command has named one)."""
    if _S.log_path is not None:
        return _S.log_path
    return Path(tempfile.gettempdir()) / f"hocbaso-{_S.command or 'lenh'}.log"


def log_for(folder: Path | str, command: str) -> Path:
    return Path(folder) / LOG_DIR / f"{command}.log"


def _open_log() -> int | None:
    """An fd appending to the log file (rotated when large); when the output folder cannot
    take it (read-only, full, a file in the way), a file in the temporary folder, which the
    messages then name. None if neither can be written."""
    for path in (log_path(), Path(tempfile.gettempdir()) / f"hocbaso-{_S.command or 'lenh'}.log"):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_size > LOG_MAX_BYTES:
                    os.replace(path, path.with_name(path.name + ".1"))
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError:
            continue
        _S.log_path = path
        return fd
    return None


def log(text: str) -> None:
    """Append a dated entry to the log file (never raises)."""
    stamp = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    entry = f"--- {stamp} pid {os.getpid()} {' '.join(sys.argv)}\n{text.rstrip()}\n"
    fd = _open_log()
    if fd is None:
        return
    with contextlib.suppress(OSError):
        os.write(fd, entry.encode("utf-8", "replace"))
    os.close(fd)


def log_exception(exc: BaseException, context: str = "") -> None:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log(f"{context}\n{text}" if context else text)


def _divert_stderr() -> None:
    """From now on, standard error (this process's fd 2) goes to the log file."""
    if _S.saved_stderr is not None:
        return
    fd = _open_log()
    if fd is None:
        return
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    try:
        _S.saved_stderr = os.dup(2)
        os.dup2(fd, 2)
    except OSError:
        _S.saved_stderr = None
    finally:
        os.close(fd)


def say(text: str) -> None:
    """One line for the user, on the terminal's standard error even when it is diverted."""
    data = (text.rstrip("\n") + "\n").encode("utf-8", "replace")
    if _S.saved_stderr is not None:
        with contextlib.suppress(OSError):
            os.write(_S.saved_stderr, data)
            return
    with contextlib.suppress(Exception):
        sys.stderr.flush()
        sys.stderr.buffer.write(data)
        sys.stderr.flush()


# --------------------------------------------------------------------------- signals


def stopping() -> bool:
    """True once a stop signal was received (the process is winding down)."""
    return _S.signum is not None


def _begin(signum: int) -> None:
    _S.signum = signum
    _S.where = describe()
    name = signal.Signals(signum).name
    _divert_stderr()
    log(f"Nhận tín hiệu {name} lúc đang {_S.where or 'khởi động lệnh'}; dọn dẹp rồi thoát.")


def _handler(signum, frame) -> None:
    if _S.signum is not None:
        return  # already stopping: let the cleanup finish
    if _S.deferring:
        _S.pending = signum
        return
    _begin(signum)
    raise Stopped(signum)


def install() -> None:
    """SIGINT and SIGTERM raise :class:`Stopped` in the main thread (call from it)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _handler)


def init_worker(log_file: str | None, command: str = "") -> None:
    """For a worker process started by a command (``ProcessPoolExecutor(initializer=...)``):
    SIGTERM (sent by the command when it stops) is an orderly stop, with the same log file;
    Ctrl+C at the terminal reaches every process of the group, and is left to the command."""
    set_log(log_file, command)
    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def children_ignore_ctrl_c() -> Iterator[None]:
    """Processes started inside the block ignore Ctrl+C from their first instruction (an
    ignored signal stays ignored across ``exec``): the terminal sends it to every process of
    the group, a worker still starting would print a traceback, and the command stops its
    workers itself. This process ignores Ctrl+C too for that while (the milliseconds a start
    takes); only from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A block no signal interrupts: a stop asked inside it takes effect at its end."""
    _S.deferring += 1
    try:
        yield
    finally:
        _S.deferring -= 1
    if not _S.deferring and _S.pending is not None and _S.signum is None:
        signum, _S.pending = _S.pending, None
        _begin(signum)
        raise Stopped(signum)


def on_stop(callback: Callable[[], None]) -> None:
    """Run ``callback`` when the command ends by a stop or an error (stop what it started)."""
    if callback not in _S.on_stop:
        _S.on_stop.append(callback)


def _run_on_stop() -> None:
    for callback in reversed(_S.on_stop):
        try:
            callback()
        except Exception as exc:  # a cleanup that fails must not hide the stop
            log_exception(exc, "Lỗi khi dọn dẹp:")


# --------------------------------------------------------------------------- the command


_TAIL = (
    "Không có kết quả nào bị ghi dở: kết quả cũ (nếu có) được giữ nguyên; "
    "chạy lại lệnh để làm tiếp."
)


def stop_message(signum: int, where: str) -> str:
    if signum == signal.SIGINT:
        head = "Đã dừng theo yêu cầu (Ctrl+C)"
    elif signum == signal.SIGTERM:
        head = "Đã dừng vì nhận tín hiệu kết thúc (SIGTERM)"
    else:
        head = f"Đã dừng vì nhận tín hiệu {signal.Signals(signum).name}"
    at = f" lúc đang {where}" if where else ""
    return f"{head}{at}. {_TAIL} Chi tiết: {log_path()}"


def error_message(exc: BaseException, where: str) -> str:
    at = f" lúc đang {where}" if where else ""
    return (
        f"Lỗi không lường trước{at}: {describe_error(exc)}. Không có kết quả nào bị ghi dở: "
        f"kết quả cũ (nếu có) được giữ nguyên. Nếu chạy lại vẫn lỗi, hãy gửi tệp {log_path()} "
        "cho người phát triển."
    )


def run(
    command: str, fn: Callable[[list[str]], int | None], argv: list[str], exiting: bool = False
) -> int:
    """Run ``fn(argv)`` (a command's ``main``) under the rules of this module; its exit code.

    ``exiting``: the process ends once this returns (the program's entry point). Signals are
    then ignored from the moment the command is done: a Ctrl+C while the interpreter shuts
    down (which restores the default handlers) would kill it with no message, after the work
    was finished and written."""
    _S.command = command
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:
        install()
    try:
        return _run(command, fn, argv)
    finally:
        if exiting and main_thread:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_IGN)


def _run(command: str, fn: Callable[[list[str]], int | None], argv: list[str]) -> int:
    try:
        return int(fn(argv) or 0)
    except (Stopped, KeyboardInterrupt) as exc:
        signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
        if _S.signum is None:  # a KeyboardInterrupt some library raised for Ctrl+C
            _begin(signum)
        _run_on_stop()
        at = f" lúc đang {_S.where}" if _S.where else ""
        log_exception(exc, f"Đã dừng ({signal.Signals(signum).name}){at}.")
        say(stop_message(signum, _S.where))
        return 128 + signum
    except Exception as exc:
        where = getattr(exc, _WHERE, "") or describe()
        _divert_stderr()
        _run_on_stop()
        log_exception(exc, f"Lỗi không lường trước lúc đang {where or 'chạy lệnh ' + command}.")
        say(error_message(exc, where))
        return EXIT_INTERNAL
