"""Kernels of a batch run: started ahead, recycled, stopped; the papermill engine that uses them.

- ``kernel_manager_class``: an async kernel manager on the IPC transport (Unix sockets with a
  unique prefix, so parallel periods never collide on ZMQ ports, papermill#511) whose
  ``python3`` is this interpreter, with ``QuickReadyClient`` as its client (the ready check
  with 20 ms IOPub waits instead of 0,2 s).
- ``WarmKernel``: a kernel started ahead of its notebook, importing that notebook's modules in
  a silent request; ``recycle`` readies it for another notebook.
- The kernels of this process: ``shutdown_all_kernels`` (a stop), the idle ones a period leaves
  for the next (``take_kernel``, ``set_aside``, ``shutdown_idle_kernels``).
- ``register_engine``: the papermill engine ``hocbaso`` that runs a notebook in a given
  ``WarmKernel`` and leaves it running.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

from analysis.batch.config import ENGINE_NAME, KERNEL_NAME, BatchConfig
from analysis.core.parallel import ENV_JOBS

#: IPython history in memory, as nbclient does for the kernels it starts itself.
KERNEL_EXTRA_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]


def light_nbformat() -> None:
    """Skip ``rfc3987_syntax`` when nbformat/papermill load jsonschema.

    jsonschema imports it (if installed) for the ``iri`` format, which builds a Lark grammar
    at import: about 3 s of CPU in every batch process and worker, for a format the notebook
    schema never uses. Blocking the import makes jsonschema skip that one format checker.
    Only this process is affected (kernels never import it)."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


#: IOPub waits of the ready check (``QuickReadyClient``): a message after a kernel_info
#: reply, and the silence that ends the drain (jupyter_client waits 0,2 s for each).
_IOPUB_POLL_S = 0.02


def _quick_ready_client_class():
    """``QuickReadyClient``, built on first use (jupyter_client is imported then)."""
    from queue import Empty

    from jupyter_client import protocol_version_info
    from jupyter_client.asynchronous import AsyncKernelClient

    class QuickReadyClient(AsyncKernelClient):
        """nbclient checks that a kernel is ready before a notebook runs: a kernel_info
        reply on shell, then any message on IOPub (so IOPub is connected), then IOPub
        drained until it stays silent. jupyter_client waits 0,2 s for that message and 0,2 s
        of silence: at least 0,2 s per notebook on the batch's critical path, with a kernel
        that is already up. Same handshake here, with 20 ms waits (kernel_info asked again
        when IOPub missed the answer, as jupyter_client does), on the client's public API."""

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while not await self._kernel_info_answered():
                if not await self.is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
            while True:  # drain IOPub: messages from before the notebook are not its own
                try:
                    await self.iopub_channel.get_msg(timeout=_IOPUB_POLL_S)
                except Empty:
                    break

        async def _kernel_info_answered(self) -> bool:
            """Ask for kernel_info: True once the reply came on shell and IOPub is connected
            (a message came on it); the protocol version then adapted, as jupyter_client
            does, if the kernel speaks another major version."""
            self.kernel_info()
            try:
                msg = await self.shell_channel.get_msg(timeout=1)
                if msg["msg_type"] != "kernel_info_reply":
                    return False
                await self.iopub_channel.get_msg(timeout=_IOPUB_POLL_S)
            except Empty:
                return False
            major = int(msg["content"]["protocol_version"].split(".")[0])
            if major != protocol_version_info[0]:
                self.session.adapt_version = major
            return True

    return QuickReadyClient


@functools.cache
def kernel_manager_class():
    """An async kernel manager on IPC transport whose ``python3`` is this interpreter (built
    once, on first use)."""
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.localinterfaces import localhost
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets import CaselessStrEnum, default

    client_class = _quick_ready_client_class()

    class ThisPythonKernelSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            if kernel_name == KERNEL_NAME:
                return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())
            return super().get_kernel_spec(kernel_name)

    class IpcKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("ip")
        def _default_ip(self):
            # jupyter_client's default IPC "address" is "kernel-ipc" in the working directory
            # (socket files kernel-ipc-1..5), so two kernels started at once in one folder
            # pick the same sockets. A unique prefix per kernel in the runtime folder instead.
            if self.transport != "ipc":
                return localhost()  # jupyter_client's own default for TCP
            runtime = Path(jupyter_runtime_dir())
            runtime.mkdir(parents=True, exist_ok=True)
            return str(runtime / f"hocbaso-{uuid.uuid4().hex[:16]}-ipc")

        @default("kernel_spec_manager")
        def _default_kernel_spec_manager(self):
            return ThisPythonKernelSpecs(data_dir=self.data_dir)

        @default("client_factory")
        def _default_client_factory(self):
            return client_class

    return IpcKernelManager


# The namespace emptied and the execution count back to 1; a filter added at the end that
# changes nothing (unmatched warnings already get "default") marks the warning filters as
# changed, which voids every module's record of warnings already shown: a warning is shown
# again in the next notebook, as in a new kernel.
_RESET_CODE = (
    "get_ipython().reset(new_session=True)\n"
    "import warnings as __hocbaso_warnings\n"
    "__hocbaso_warnings.simplefilter('default', append=True)\n"
    "del __hocbaso_warnings\n"
)


def _preload_code(modules: list[str]) -> str:
    # A function scope: nothing lands in the notebook's namespace; failures are ignored
    # (the notebook itself will import, and fail, with a proper traceback).
    return (
        "def __hocbaso_preload(names):\n"
        "    import importlib\n"
        "    for name in names:\n"
        "        try:\n"
        "            importlib.import_module(name)\n"
        "        except Exception:\n"
        "            pass\n"
        f"__hocbaso_preload({modules!r})\n"
        "del __hocbaso_preload\n"
    )


class WarmKernel:
    """A kernel started ahead of its notebook, importing the notebook's modules."""

    def __init__(self, modules: list[str], cwd: Path, jobs: int | None = None):
        """``jobs``: the processes the notebook's cleaning may use (``ANALYSIS_JOBS`` in the
        kernel's environment, ``analysis.core.parallel``); ``None`` leaves the environment as is."""
        from jupyter_core.utils import run_sync

        env = dict(os.environ)
        if jobs is not None:
            env[ENV_JOBS] = str(jobs)
        self.km = kernel_manager_class()(kernel_name=KERNEL_NAME)
        self._kc = None
        with _LIVE_LOCK:  # before it starts: a stop during the start still finds it
            _LIVE_KERNELS.append(self)
        run_sync(self.km.start_kernel)(
            extra_arguments=list(KERNEL_EXTRA_ARGUMENTS), cwd=str(cwd), env=env
        )
        self._send(_preload_code(modules) if modules else "")

    def _send(self, code: str) -> None:
        """Queue a silent request. It waits in the socket queue until the kernel is up; the
        notebook's own requests are queued behind it, so its first cell finds it done."""
        if not code:
            return
        self.close_client()
        self._kc = self.km.blocking_client()
        self._kc.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        self._kc.execute(code, silent=True, store_history=False)

    def recycle(self, modules: list[str]) -> WarmKernel:
        """Make the kernel of a notebook that has run ready for another notebook: the user
        namespace is emptied and the execution count starts again at 1
        (``InteractiveShell.reset(new_session=True)``), then the other notebook's modules are
        imported. The imports already done stay (the point: no new kernel to start, no
        pandas to import again); no variable of the first notebook does."""
        self._send(_RESET_CODE + _preload_code(modules))
        return self

    def close_client(self) -> None:
        if self._kc is not None:
            with contextlib.suppress(Exception):
                self._kc.stop_channels()
            self._kc = None

    def shutdown(self) -> None:
        """Stop the kernel at once: its notebook has run (all output received) and no
        notebook waits for it, or it was never used (a failure earlier in the period)."""
        from jupyter_core.utils import run_sync

        self.close_client()
        with contextlib.suppress(Exception):
            run_sync(self.km.shutdown_kernel)(now=True)
        with contextlib.suppress(Exception):
            run_sync(self.km.cleanup_resources)()
        with _LIVE_LOCK:
            if self in _LIVE_KERNELS:
                _LIVE_KERNELS.remove(self)

    @property
    def pid(self) -> int | None:
        """The kernel's process id (None before it started or once stopped)."""
        provisioner = getattr(self.km, "provisioner", None)
        return getattr(provisioner, "pid", None) if provisioner is not None else None


#: Every kernel this process started and has not stopped (``shutdown_all_kernels``).
_LIVE_KERNELS: list[WarmKernel] = []
_LIVE_LOCK = threading.Lock()


def shutdown_all_kernels() -> None:
    """Stop every kernel this process started (a stop or an error ends the command: nothing
    may be left running). A kernel runs in its own process group, with the worker processes
    its cleaning forked (``analysis.core.parallel``): the group is killed."""
    _kill_stray_kernels()
    with _LIVE_LOCK:
        live = list(_LIVE_KERNELS)
    with _IDLE_LOCK:
        _IDLE_KERNELS.clear()
    for kernel in live:
        kernel.shutdown()


def _kill_stray_kernels() -> None:
    """Kill (with its process group) every child of this process that leads its own session:
    the kernels it launched (jupyter_client starts each in a new session), including one whose
    start a stop interrupted before its manager recorded the process (``shutdown`` would miss
    it, and it would outlive this process). Linux (``/proc``); elsewhere nothing."""
    me = os.getpid()
    proc = Path("/proc")
    if not proc.is_dir():
        return
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        pid = int(entry.name)
        if int(fields[1]) == me and int(fields[2]) == pid and int(fields[3]) == pid:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


#: Kernels left by the periods this process ran, for the next period (``keep_kernels``).
_IDLE_KERNELS: list[WarmKernel] = []
_IDLE_LOCK = threading.Lock()


def take_kernel(modules: list[str], cfg: BatchConfig) -> WarmKernel:
    """A kernel for a notebook importing ``modules``: one an earlier period left, recycled
    (``keep_kernels``), or a new one."""
    with _IDLE_LOCK:
        kernel = _IDLE_KERNELS.pop(0) if cfg.keep_kernels and _IDLE_KERNELS else None
    if kernel is not None:
        return kernel.recycle(modules)
    return WarmKernel(modules, cfg.notebooks_dir, cfg.notebook_jobs)


def set_aside(kernel: WarmKernel, cfg: BatchConfig) -> None:
    """A kernel whose notebook succeeded and that no notebook of this period waits for: kept
    for the next period (at most ``notebook_jobs`` + 1 of them), else stopped."""
    with _IDLE_LOCK:
        keep = cfg.keep_kernels and len(_IDLE_KERNELS) <= cfg.notebook_jobs
        if keep:
            _IDLE_KERNELS.append(kernel)
    if not keep:
        kernel.shutdown()


def shutdown_idle_kernels() -> None:
    """Stop the kernels kept for a next period (``run_periods`` calls it when done)."""
    with _IDLE_LOCK:
        idle = list(_IDLE_KERNELS)
        _IDLE_KERNELS.clear()
    for kernel in idle:
        kernel.shutdown()


# --------------------------------------------------------------------------- papermill engine


@functools.cache
def register_engine() -> None:
    """Register the papermill engine ``hocbaso`` (``ENGINE_NAME``), once: it runs a notebook
    in a given ``WarmKernel`` and leaves it running (or in a fresh IPC kernel that it shuts
    down)."""
    light_nbformat()
    from papermill.engines import papermill_engines

    papermill_engines.register(ENGINE_NAME, _warm_kernel_engine_class())


def _client_options(kernel_name, log_output, stdout_file, stderr_file, timeouts, kwargs) -> dict:
    """The notebook client's options, as papermill's nbclient engine builds them, plus the
    batch's: this module's kernel manager, no timing, an immediate stop, merged streams.
    ``timeouts``: (start, execution) in seconds."""
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
    return merge_kwargs(
        kwargs,
        timeout=timeouts[1],
        startup_timeout=timeouts[0],
        kernel_name=kernel_name,
        log=logger,
        log_output=log_output,
        stdout_file=stdout_file,
        stderr_file=stderr_file,
        kernel_manager_class=kernel_manager_class(),
        record_timing=False,
        # For a kernel nbclient starts itself (no warm kernel given): once every cell
        # has run and its output is in, stop it at once instead of waiting for a
        # graceful exit (0,7-1,2 s). A warm kernel is stopped by ``WarmKernel.shutdown``,
        # also at once, or recycled.
        shutdown_kernel="immediate",
        # A print's text and its newline can reach IOPub in one stream message or
        # two, depending on when the kernel flushes: merged, a cell's stdout (and
        # stderr) is one output, and the executed notebook the same bytes every run.
        coalesce_streams=True,
    )


def _execute_in(warm: WarmKernel, client):
    """Run ``client`` (given ``warm``'s manager, so nbclient leaves the kernel running: the
    batch then recycles it for a notebook of the next stage or shuts it down)."""
    try:
        return client.execute()
    finally:
        warm.close_client()
        if client.kc is not None:
            with contextlib.suppress(Exception):
                client.kc.stop_channels()


def _warm_kernel_engine_class():
    """papermill's nbclient engine, taking a ``warm_kernel`` to run the notebook in."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine

    class WarmKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            warm = kwargs.pop("warm_kernel", None)
            timeouts = (start_timeout, execution_timeout)
            options = _client_options(
                kernel_name, log_output, stdout_file, stderr_file, timeouts, kwargs
            )
            if warm is None:
                return PapermillNotebookClient(nb_man, **options).execute()
            return _execute_in(warm, PapermillNotebookClient(nb_man, km=warm.km, **options))

    return WarmKernelEngine
