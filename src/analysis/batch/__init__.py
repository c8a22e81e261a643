"""Batch runs per reporting period: ``python -m analysis run`` (also ``hocbaso run``).

For each period, the notebooks ``notebooks/NN_*.ipynb`` run through papermill with the
parameters ``period``, ``raw_dir``, ``processed_dir`` and ``output_dir`` (absolute paths), stage
by stage (``notebook_stage``: 10-19 clean, 20-89 analyses, 90-99 report); the notebooks of one
stage run side by side. A period is built in a temporary folder
``<output_root>/.tmp-<period>-<pid>/<period>`` and swapped in only when every notebook
succeeded; a failure keeps the previous good outputs and saves the failed notebook under
``<output_root>/_failed/<period>/``.

Design choices (measured in ``benchmarks/bench_batch.py``):

- Kernels use the IPC transport (Unix sockets named after the connection file) instead of
  TCP ports, so parallel periods never collide on ZMQ ports (papermill#511).
- The ``python3`` kernel is always the current interpreter (``sys.executable -m
  ipykernel_launcher``), whatever kernelspecs a user folder holds.
- Kernels are started ahead: while a stage runs, the next stage gets a new kernel for each
  notebook beyond the number of kernels the running stage will free, and each imports the
  modules its notebook imports (found with ``ast``) in a silent request that leaves no name in
  the user namespace and no execution count. A kernel whose notebook succeeded is recycled for
  a waiting notebook of the next stage (``WarmKernel.recycle``: ``reset(new_session=True)``,
  so no variable leaks from one notebook to the next and counts start at 1, as under nbval;
  then that notebook's imports). Kernel start and imports (most of a thin notebook's time)
  overlap with the previous stage's work, and a period starts two kernels, not four; the
  first stage's kernel boots while this process imports papermill. A process that runs
  several periods (``run_periods``: each worker takes every ``jobs``-th period, in order)
  hands the kernels a period leaves to the next period the same way. The artefacts are
  byte-identical to those of ``--no-prewarm`` (a new kernel per notebook, started when due).
- The analyses of one stage run in threads of this process (each only relays messages to its
  kernel); papermill's ``cwd`` is not used, since it would chdir the whole process.
- The cores a period gets (``notebook_jobs``) are also given to its kernels as
  ``ANALYSIS_JOBS``: the cleaning stage reads the raw files and cleans the history's earlier
  folders in that many processes (``analysis.parallel``), so one period uses every core even
  in its single-notebook first stage, and periods run side by side do not oversubscribe them.
- Before a notebook runs, nbclient checks that its kernel is ready (a kernel_info reply, then
  IOPub drained); the batch's client (``QuickReadyClient``) does the same handshake with
  20 ms IOPub waits instead of jupyter_client's 0,2 s, which cost every notebook 0,2 s.
- A kernel whose notebook has run is stopped at once, not asked to exit gracefully (0,7-1,2 s
  per notebook saved on the critical path).
- Executed notebooks are normalised before saving: no papermill/nbclient timestamps, the
  temporary root rewritten to the final one, deterministic cell ids. Timings go to the
  manifest's ``timings`` key.

``--per-commune``: once the notebooks succeeded, every commune's report is written in the
temporary folder (``analysis.fanout``, ``<period>/xa/<slug>/``), then the manifest (with
``units``) and the swap, as for the period alone; a commune that fails is left out (listed at the
end, exit 1), the others and the period's own report are swapped in.

Exit codes: 0 all periods built; 1 a period or a commune's report failed (the others still
ran); 2 bad parameters
(reported before any kernel starts); 130 stopped by Ctrl+C, 143 by SIGTERM, 3 an unexpected
error (``analysis.stops``: one Vietnamese line, details in ``<output_root>/_logs/run.log``).
A stop stops every kernel (and the worker processes a kernel forked), removes the temporary
folders and keeps the previous outputs: a period is swapped in whole or not at all.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from analysis import paths
from analysis.batch import manifest as manifest_mod
from analysis.cli import ArgumentParser as _Parser  # Vietnamese errors, exit 2
from analysis.core import io, stops
from analysis.core.parallel import ENV_JOBS

NOTEBOOK_RE = re.compile(r"^\d{2}_.+\.ipynb$")
KERNEL_NAME = "python3"
ENGINE_NAME = "hocbaso"
FAILED_DIR = "_failed"
PREPARED_DIR = "_prepared"
INJECTED_CELL_ID = "injected-parameters"
#: IPython history in memory, as nbclient does for the kernels it starts itself.
KERNEL_EXTRA_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]
#: Cell and notebook metadata that papermill / nbclient fill with timestamps.
_VOLATILE_NB_KEYS = ("start_time", "end_time", "duration", "exception")
_VOLATILE_CELL_KEYS = ("papermill", "execution", "ExecuteTime")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class BatchError(Exception):
    """Bad parameters: a Vietnamese message for the user, exit code 2."""


@dataclass(frozen=True)
class BatchConfig:
    """Folders and options shared by every period of one batch."""

    raw_root: Path
    processed_root: Path
    output_root: Path
    notebooks_dir: Path
    timeout: int = 600
    quiet: bool = False
    progress_bar: bool = False
    prewarm: bool = True
    hide_code: bool = False
    #: Notebooks of one stage run at the same time (see ``notebook_stages``); also the
    #: processes a notebook's cleaning may use (``ANALYSIS_JOBS`` in its kernel).
    notebook_jobs: int = 2
    #: Kernels a period leaves are kept for the next period this process runs (set by
    #: ``run_periods`` when a process runs several periods; ``shutdown_idle_kernels`` ends them).
    keep_kernels: bool = False
    #: The report's unit ("" = from the data; "province", "commune", "district"): the
    #: notebooks' ``unit`` parameter.
    unit: str = ""
    #: After the period's own report, one report per commune in ``<period>/xa/<slug>/``
    #: (``analysis.fanout``).
    per_commune: bool = False


@dataclass
class NotebookRun:
    name: str
    seconds: float
    ok: bool


@dataclass
class PeriodResult:
    period: str
    ok: bool
    notebooks: list[NotebookRun] = field(default_factory=list)
    message: str | None = None
    failed_notebook: str | None = None
    seconds: float = 0.0
    #: --per-commune: reports written, and the message of every commune that failed.
    n_units: int = 0
    unit_failures: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- validation


def find_notebooks(notebooks_dir: Path | str) -> list[Path]:
    """The notebooks a run executes: ``NN_*.ipynb`` in name order."""
    folder = Path(notebooks_dir)
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and NOTEBOOK_RE.match(p.name)),
        key=lambda p: p.name,
    )


def _resolve_dir(value: str | Path | None, default: Path) -> Path:
    return Path(value).expanduser().resolve() if value else default.resolve()


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def make_config(
    raw_dir: str | Path | None = None,
    processed_dir: str | Path | None = None,
    output_dir: str | Path | None = None,
    notebooks_dir: str | Path | None = None,
    **options,
) -> BatchConfig:
    """Resolve and check the folders; raises ``BatchError`` with a Vietnamese message."""
    raw_root = _resolve_dir(raw_dir, paths.RAW_DIR)
    processed_root = _resolve_dir(processed_dir, paths.PROCESSED_DIR)
    output_root = _resolve_dir(output_dir, paths.OUTPUTS_DIR)
    nb_dir = _resolve_dir(notebooks_dir, paths.NOTEBOOKS_DIR)
    if not raw_root.is_dir():
        raise BatchError(
            f"Thư mục dữ liệu thô {raw_root} không tồn tại. Hãy kiểm tra tham số --raw-dir "
            "(thư mục chứa các thư mục kỳ báo cáo dạng YYYY-MM-DD)."
        )
    if not nb_dir.is_dir():
        raise BatchError(
            f"Thư mục notebook {nb_dir} không tồn tại. Hãy kiểm tra tham số --notebooks-dir."
        )
    if not find_notebooks(nb_dir):
        raise BatchError(
            f"Thư mục {nb_dir} không có notebook nào dạng NN_ten.ipynb (ví dụ 10_clean.ipynb)."
        )
    for label, option, folder in (
        ("dữ liệu đã làm sạch", "--processed-dir", processed_root),
        ("kết quả", "--output-dir", output_root),
    ):
        if folder.exists() and not folder.is_dir():
            raise BatchError(
                f"Thư mục {label} {folder} là một file, không phải thư mục. "
                f"Hãy chọn một thư mục khác cho {option}."
            )
        if _inside(folder, raw_root) or _inside(raw_root, folder):
            raise BatchError(
                f"Thư mục {label} {folder} không được nằm trong (hoặc chứa) thư mục dữ liệu "
                f"thô {raw_root}: dữ liệu thô chỉ được đọc. Hãy chọn thư mục khác cho {option}."
            )
    return BatchConfig(raw_root, processed_root, output_root, nb_dir, **options)


def resolve_periods(raw_root: Path, periods: list[str] | None, all_periods: bool) -> list[str]:
    """The periods to run, sorted and unique; raises ``BatchError`` for a bad one."""
    available = paths.list_periods(raw_root)
    if all_periods and periods:
        raise BatchError("Chỉ dùng một trong hai: --all hoặc --period, không dùng cả hai.")
    if not available:
        raise BatchError(
            f"Không tìm thấy kỳ báo cáo nào trong {raw_root}: cần các thư mục dạng YYYY-MM-DD "
            "chứa file xuất dữ liệu (.xlsx, .xls, .csv)."
        )
    if all_periods:
        return available
    if not periods:
        return [available[-1]]
    chosen = sorted(set(periods))
    for period in chosen:
        try:
            paths.parse_period(period)
        except paths.PeriodError as exc:
            raise BatchError(str(exc)) from None
        if not (raw_root / period).is_dir():
            raise BatchError(
                f"Kỳ báo cáo {period} không có thư mục dữ liệu thô {raw_root / period}. "
                f"Các kỳ có sẵn: {', '.join(available)}."
            )
    return chosen


# --------------------------------------------------------------------------- kernels


def _light_nbformat() -> None:
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


def _kernel_manager_class():
    """An async kernel manager on IPC transport whose ``python3`` is this interpreter."""
    from queue import Empty

    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.paths import jupyter_runtime_dir
    from traitlets import CaselessStrEnum, default

    class QuickReadyClient(AsyncKernelClient):
        """nbclient checks that a kernel is ready before a notebook runs: a kernel_info
        reply on shell, then any message on IOPub (so IOPub is connected), then IOPub
        drained until it stays silent. jupyter_client waits 0,2 s for that message and 0,2 s
        of silence: at least 0,2 s per notebook on the batch's critical path, with a kernel
        that is already up. Same handshake here, with 20 ms waits (kernel_info asked again
        when IOPub missed the answer, as jupyter_client does)."""

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            if not all(hasattr(self, n) for n in ("_handle_kernel_info_reply", "_async_is_alive")):
                # a jupyter_client without the helpers used here: its own check
                return await super().wait_for_ready(timeout=timeout)
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            while True:
                self.kernel_info()
                try:
                    msg = await self.shell_channel.get_msg(timeout=1)
                except Empty:
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    try:
                        await self.iopub_channel.get_msg(timeout=_IOPUB_POLL_S)
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
            while True:  # drain IOPub: messages from before the notebook are not its own
                try:
                    await self.iopub_channel.get_msg(timeout=_IOPUB_POLL_S)
                except Empty:
                    break

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
                return super()._ip_default()
            runtime = Path(jupyter_runtime_dir())
            runtime.mkdir(parents=True, exist_ok=True)
            return str(runtime / f"hocbaso-{uuid.uuid4().hex[:16]}-ipc")

        @default("kernel_spec_manager")
        def _default_kernel_spec_manager(self):
            return ThisPythonKernelSpecs(data_dir=self.data_dir)

        @default("client_factory")
        def _default_client_factory(self):
            return QuickReadyClient

    return IpcKernelManager


_KM_CLASS = None


def kernel_manager_class():
    global _KM_CLASS
    if _KM_CLASS is None:
        _KM_CLASS = _kernel_manager_class()
    return _KM_CLASS


def notebook_imports(nb) -> list[str]:
    """Absolute module names a notebook imports (``import a.b``, ``from a import b`` gives
    ``a`` and ``a.b``, since ``b`` may be a submodule), sorted. Cells that do not parse
    (magics) are skipped. ``nb``: a NotebookNode or the notebook's JSON (a dict)."""
    found: set[str] = set()
    for cell in nb["cells"]:  # a NotebookNode, or the notebook's JSON as read
        if cell["cell_type"] != "code":
            continue
        source = cell["source"]
        try:
            tree = ast.parse(source if isinstance(source, str) else "".join(source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return sorted(found)


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
        kernel's environment, ``analysis.parallel``); ``None`` leaves the environment as is."""
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
    its cleaning forked (``analysis.parallel``): the group is killed."""
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


def _take_kernel(modules: list[str], cfg: BatchConfig) -> WarmKernel:
    """A kernel for a notebook importing ``modules``: one an earlier period left, recycled
    (``keep_kernels``), or a new one."""
    with _IDLE_LOCK:
        kernel = _IDLE_KERNELS.pop(0) if cfg.keep_kernels and _IDLE_KERNELS else None
    if kernel is not None:
        return kernel.recycle(modules)
    return WarmKernel(modules, cfg.notebooks_dir, cfg.notebook_jobs)


def _set_aside(kernel: WarmKernel, cfg: BatchConfig) -> None:
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


_ENGINE_REGISTERED = False


def _register_engine() -> None:
    """A papermill engine that runs a notebook in a given ``WarmKernel`` and leaves it running
    (or in a fresh IPC kernel that it shuts down)."""
    global _ENGINE_REGISTERED
    if _ENGINE_REGISTERED:
        return
    _light_nbformat()
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

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
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                kwargs,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
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
            if warm is None:
                return PapermillNotebookClient(nb_man, **final_kwargs).execute()
            client = PapermillNotebookClient(nb_man, km=warm.km, **final_kwargs)
            try:
                return client.execute()
            finally:
                # We gave the manager, so nbclient leaves the kernel running: the batch then
                # recycles it for a notebook of the next stage or shuts it down.
                warm.close_client()
                if client.kc is not None:
                    with contextlib.suppress(Exception):
                        client.kc.stop_channels()

    papermill_engines.register(ENGINE_NAME, WarmKernelEngine)
    _ENGINE_REGISTERED = True


# --------------------------------------------------------------------------- notebooks


def _replace_strings(node, old: str, new: str):
    if isinstance(node, str):
        return node.replace(old, new)
    if isinstance(node, list):
        return [_replace_strings(item, old, new) for item in node]
    if isinstance(node, dict):
        return type(node)((key, _replace_strings(value, old, new)) for key, value in node.items())
    return node


def normalise_notebook(nb, *, source_ids: set[str], old_root: str | None, new_root: str):
    """Make an executed notebook byte-stable across reruns (in place; returns it).

    Drops papermill's start/end/duration and nbclient's per-cell timing metadata, gives the
    injected parameters cell (and any cell whose id is not the source's) a deterministic id,
    and rewrites the temporary output root to the final one everywhere (parameters, outputs,
    metadata)."""
    meta_pm = nb.metadata.get("papermill")
    if meta_pm is not None:
        for key in _VOLATILE_NB_KEYS:
            meta_pm.pop(key, None)
    for index, cell in enumerate(nb.cells):
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if "id" in cell and cell.id not in source_ids:
            tags = cell.metadata.get("tags", [])
            cell.id = INJECTED_CELL_ID if "injected-parameters" in tags else f"cell-{index}"
    if old_root and old_root != new_root:
        from nbformat import from_dict

        rewritten = from_dict(_replace_strings(dict(nb), old_root, new_root))
        nb.clear()
        nb.update(rewritten)
    return nb


def _finish_notebook(path: Path, source_ids: set[str], old_root: str | None, new_root: str):
    """Normalise the notebook papermill saved at ``path`` and write it back."""
    _light_nbformat()
    import nbformat

    nb = nbformat.read(path, as_version=4)
    normalise_notebook(nb, source_ids=source_ids, old_root=old_root, new_root=new_root)
    nbformat.write(nb, path)
    return nb


def _source_ids(nb) -> set[str]:
    return {cell.id for cell in nb.cells if "id" in cell}


def _parameters(period: str, cfg: BatchConfig, output_root: Path) -> dict[str, str]:
    params = {
        "period": period,
        "raw_dir": str(cfg.raw_root),
        "processed_dir": str(cfg.processed_root),
        "output_dir": str(output_root),
    }
    if cfg.unit:  # only when chosen: a run without it passes what it always passed
        params["unit"] = cfg.unit
    return params


#: Parameters given only to the notebooks that declare them (papermill warns of the others).
_OPTIONAL_PARAMETERS = ("unit",)


def _declared_only(params: dict[str, str], nb) -> dict[str, str]:
    """``params`` without the optional ones the notebook's ``parameters`` cell does not set."""
    if not any(name in params for name in _OPTIONAL_PARAMETERS):
        return params
    declared: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            with contextlib.suppress(SyntaxError):
                for node in ast.walk(ast.parse(cell.source)):
                    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                        declared.add(node.id)
    return {k: v for k, v in params.items() if k not in _OPTIONAL_PARAMETERS or k in declared}


def _say(cfg: BatchConfig, text: str) -> None:
    if not cfg.quiet:
        print(text, flush=True)


def _seconds(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


# --------------------------------------------------------------------------- one period


#: The suite's own errors: their message is Vietnamese and says what to do; shown as it is.
_OWN_ERRORS = frozenset(
    {
        "IngestError",
        "CleanError",
        "PeriodError",
        "ReportError",
        "PrivacyError",
        "MetricError",
        "UnitError",
        "CrosswalkError",
        "UnitChoiceError",
        "TemplateError",
    }
)


def _failure_message(period: str, name: str, exc: BaseException, saved: Path | None) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        where = f"ô In [{exc.exec_count}] (ô thứ {exc.cell_index + 1}, tính cả ô tham số chèn vào)"
        own = exc.ename in _OWN_ERRORS
        what = str(exc.evalue).rstrip(".") if own else f"{exc.ename}: {exc.evalue}"
    else:  # the kernel died, a cell ran out of time, or the batch's own code failed
        where = "lúc chạy"
        kind = type(exc).__name__
        if kind == "DeadKernelError":
            what = "kernel dừng đột ngột (máy hết bộ nhớ, hoặc bị tắt từ bên ngoài)"
        elif kind == "CellTimeoutError":
            what = "một ô chạy quá giới hạn thời gian (tham số --timeout)"
        else:
            what = stops.describe_error(exc)
        stops.log_exception(exc, f"Kỳ {period}: notebook {name}:")
        what += f"; chi tiết trong {stops.log_path()}"
    text = f"Kỳ {period}: notebook {name} lỗi ở {where}: {what}."
    if saved is not None:
        text += f" Bản đã chạy được lưu tại {saved} để kiểm tra."
    return text + f" Kết quả cũ của kỳ {period} (nếu có) được giữ nguyên."


def notebook_stage(name: str) -> int:
    """The stage of a notebook from its number: 10-19 clean (0), 20-89 analyses (1), 90-99
    report (2). The analyses of one stage only read ``data/processed`` and write their own
    tables and figures, so a period runs them side by side."""
    number = int(name[:2])
    return 0 if number < 20 else 1 if number < 90 else 2


def notebook_stages(notebooks: list[Path]) -> list[list[int]]:
    """Indexes of ``notebooks`` (name order) grouped by ``notebook_stage``, stage order."""
    groups: dict[int, list[int]] = {}
    for index, path in enumerate(notebooks):
        groups.setdefault(notebook_stage(path.name), []).append(index)
    return [groups[stage] for stage in sorted(groups)]


@dataclass
class _Outcome:
    index: int
    seconds: float
    error: BaseException | None = None


def run_period(period: str, cfg: BatchConfig) -> PeriodResult:
    """Run every notebook for one period; swap the outputs in only if all succeeded.

    Stages run in order (``notebook_stages``); the notebooks of one stage run at the same
    time, up to ``cfg.notebook_jobs``, each in its own kernel. While a stage runs, the kernels
    of the next stage start (or are recycled from this stage) and import their modules.

    Notebooks always run in threads, the main thread only waits for them: nbclient run in
    the main thread takes SIGINT and SIGTERM for itself (and ignores them), and a stop must
    reach this function. A stop (``stops.Stopped``: Ctrl+C, SIGTERM) or an error on the way
    stops every kernel of the period (those running a notebook first, so their threads end),
    removes the temporary folder, and undoes what a killed kernel left half-written in the
    processed folder (``paths.remove_leftovers``); the previous outputs stay."""
    started = time.perf_counter()
    output_root = cfg.output_root
    failed_dir = output_root / FAILED_DIR / period
    tmp_root = output_root / f".tmp-{period}-{os.getpid()}"
    tmp_period = tmp_root / period
    nb_out_dir = tmp_period / "notebooks"
    params = _parameters(period, cfg, tmp_root)
    notebooks = find_notebooks(cfg.notebooks_dir)
    imports: list[list[str]] = []
    sources: list = []
    stages = notebook_stages(notebooks)
    result = PeriodResult(period, ok=False)
    timings: dict[str, float] = {}
    kernels: dict[int, WarmKernel] = {}  # started ahead, waiting for their notebook
    running: dict[int, WarmKernel] = {}  # running their notebook
    claims: list[int] = []  # notebooks of the next stage waiting for a recycled kernel
    lock = threading.Lock()

    def start_kernels(stage: list[int], freed: int) -> None:
        """Kernels for a stage: the running stage frees ``freed`` kernels when its notebooks
        end, which the last notebooks of this stage take (``release``); the others get a
        kernel started now."""
        fresh = stage[: max(0, len(stage) - freed)]
        for index in fresh:
            kernels[index] = _take_kernel(imports[index], cfg)
        with lock:
            claims[:] = [index for index in stage if index not in fresh]

    def release(index: int, kernel: WarmKernel, ok: bool) -> None:
        """A notebook has run in ``kernel``: recycle it for a waiting notebook, or stop it."""
        with lock:
            running.pop(index, None)
            claimant = claims.pop(0) if ok and claims else None
        if claimant is None:
            if ok:
                _set_aside(kernel, cfg)
            else:
                kernel.shutdown()
            return
        recycled = kernel.recycle(imports[claimant])
        with lock:
            kernels[claimant] = recycled

    def execute(index: int, progress_bar: bool) -> _Outcome:
        path = notebooks[index]
        with lock:
            kernel = kernels.pop(index, None)
        if kernel is None:  # no prewarm (or its kernel was not freed): one started now
            kernel = WarmKernel([], cfg.notebooks_dir, cfg.notebook_jobs)
        with lock:
            running[index] = kernel
        t0 = time.perf_counter()
        try:
            with stops.doing(f"notebook {path.name}"):
                pm.execute_notebook(
                    str(path),
                    str(nb_out_dir / path.name),
                    parameters=_declared_only(params, sources[index]),
                    engine_name=ENGINE_NAME,
                    kernel_name=KERNEL_NAME,
                    language="python",
                    progress_bar=progress_bar,
                    log_output=False,
                    request_save_on_cell_execute=False,
                    execution_timeout=cfg.timeout,
                    report_mode=cfg.hide_code,
                    # The kernel was started in the notebooks folder; papermill's ``cwd`` would
                    # chdir the whole process, which two notebooks in threads must not do.
                    cwd=None,
                    warm_kernel=kernel,
                )
        except Exception as exc:  # a failing notebook, a dead kernel, a timeout
            seconds = time.perf_counter() - t0
            release(index, kernel, ok=False)
            return _Outcome(index, seconds, exc)
        seconds = time.perf_counter() - t0
        release(index, kernel, ok=True)
        return _Outcome(index, seconds)

    def stop_running() -> None:
        """Stop the kernels of the notebooks running now: their threads then end (nbclient
        finds the kernel dead within a second)."""
        with lock:
            busy = list(running.values())
        for kernel in busy:
            kernel.shutdown()

    def run_stage(stage: list[int]) -> list[_Outcome]:
        """The notebooks of a stage, side by side up to ``notebook_jobs`` (threads: each only
        relays messages to its kernel, a separate process), else one after another. Several
        progress bars on one terminal would garble: a bar only when one runs at a time."""
        from concurrent.futures import ThreadPoolExecutor

        width = min(len(stage), cfg.notebook_jobs) if cfg.notebook_jobs > 1 else 1
        bar = cfg.progress_bar and width == 1
        pool = ThreadPoolExecutor(width, thread_name_prefix=f"hocbaso-{period}")
        try:
            futures = [pool.submit(execute, index, bar) for index in stage]
            return [future.result() for future in futures]
        except BaseException:  # a stop while the notebooks run
            stop_running()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    with stops.doing(f"chạy kỳ {period}"):
        try:
            output_root.mkdir(parents=True, exist_ok=True)
            paths.remove_leftovers(output_root, period)
            shutil.rmtree(failed_dir, ignore_errors=True)
            shutil.rmtree(tmp_root, ignore_errors=True)
            nb_out_dir.mkdir(parents=True)
            # The imports to preload, from the JSON: the first kernel starts before nbformat
            # and papermill are imported here (0,2 s and 1 s), and boots meanwhile.
            imports[:] = [
                notebook_imports(json.loads(p.read_text(encoding="utf-8"))) for p in notebooks
            ]
            if cfg.prewarm:
                start_kernels(stages[0], 0)
            # nbformat and papermill are imported while the first kernels boot (about 1 s each).
            _light_nbformat()
            import nbformat
            import papermill as pm

            sources[:] = [nbformat.read(p, as_version=4) for p in notebooks]

            _register_engine()
            for number, stage in enumerate(stages):
                if cfg.prewarm and number + 1 < len(stages):
                    start_kernels(stages[number + 1], len(stage))
                outcomes = run_stage(stage)
                failures = []
                for outcome in outcomes:
                    path, source = notebooks[outcome.index], sources[outcome.index]
                    out_path = nb_out_dir / path.name
                    ok = outcome.error is None
                    result.notebooks.append(NotebookRun(path.name, outcome.seconds, ok=ok))
                    state = "ok" if ok else "lỗi"
                    line = f"[{period}] {path.name:<36} {_seconds(outcome.seconds):>6} s  {state}"
                    _say(cfg, line)
                    if ok:
                        timings[path.name] = round(outcome.seconds, 3)
                        _finish_notebook(
                            out_path, _source_ids(source), str(tmp_root), str(output_root)
                        )
                        continue
                    saved = None
                    if out_path.is_file():
                        failed_dir.mkdir(parents=True, exist_ok=True)
                        saved = failed_dir / path.name
                        shutil.copyfile(out_path, saved)
                        _finish_notebook(
                            saved, _source_ids(source), str(tmp_root), str(output_root)
                        )
                    message = _failure_message(period, path.name, outcome.error, saved)
                    failures.append((message.replace(str(tmp_root), str(output_root)), saved))
                if failures:
                    # The first failing notebook (name order) is the one reported; every
                    # failed notebook of the stage is saved under _failed/.
                    message, saved = failures[0]
                    if len(failures) > 1:
                        message += f" ({len(failures) - 1} notebook khác cùng bước cũng lỗi.)"
                    result.message = message
                    result.failed_notebook = str(saved) if saved else None
                    return result

            parameters = {
                **_parameters(period, cfg, output_root),
                "notebooks_dir": str(cfg.notebooks_dir),
                "notebooks": [p.name for p in notebooks],
                "kernel": KERNEL_NAME,
                "timeout": cfg.timeout,
            }
            unit_records = None
            if cfg.per_commune:
                unit_records = _fan_out(period, cfg, tmp_root, tmp_period, result, timings)
                parameters["per_commune"] = True
            result.seconds = time.perf_counter() - started
            data = manifest_mod.build_manifest(
                period=period,
                parameters=parameters,
                raw_root=cfg.raw_root,
                processed_root=cfg.processed_root,
                period_dir=tmp_period,
                timings={"notebooks": timings, "total_seconds": round(result.seconds, 3)},
                units=unit_records,
            )
            manifest_mod.write_manifest(data, tmp_period)
            io.swap_in(tmp_period, output_root / period)
            result.ok = True
            return result
        except Exception as exc:  # our own stage (manifest, swap) failed: same rules
            stops.log_exception(exc, f"Kỳ {period}: không hoàn tất được kết quả.")
            result.message = (
                f"Kỳ {period}: không hoàn tất được kết quả ({stops.describe_error(exc)}; chi "
                f"tiết trong {stops.log_path()}). Kết quả cũ của kỳ {period} (nếu có) được "
                "giữ nguyên."
            )
            return result
        finally:
            with stops.deferred():  # a signal now waits for the cleanup to end
                with lock:
                    left = [*kernels.values(), *running.values()]
                    kernels.clear()
                    running.clear()
                for kernel in left:  # kernels of stages that did not run, or stopped
                    kernel.shutdown()
                shutil.rmtree(tmp_root, ignore_errors=True)
                if not result.ok:  # a kernel stopped while its cleaning wrote
                    paths.remove_leftovers(cfg.processed_root, period)
                result.seconds = time.perf_counter() - started


def _fan_out(
    period: str,
    cfg: BatchConfig,
    tmp_root: Path,
    tmp_period: Path,
    result: PeriodResult,
    timings: dict,
) -> list[dict]:
    """--per-commune: every commune's report in ``<tmp_period>/xa/<slug>/`` (in this process,
    ``analysis.fanout``), before the period is swapped in; returns the manifest's ``units``.
    A commune that fails is listed in ``result.unit_failures`` and the others still run."""
    from analysis import report
    from analysis.batch import fanout

    run_cfg = paths.RunConfig(period, cfg.raw_root, cfg.processed_root, tmp_root)
    main_unit = report.report_unit(run_cfg, cfg.unit)
    t0 = time.perf_counter()
    with stops.doing(f"báo cáo từng xã/phường kỳ {period}"):
        outcomes = fanout.fan_out(run_cfg, tmp_period, cfg.progress_bar, cfg.quiet)
    timings["per_commune"] = round(time.perf_counter() - t0, 3)
    ok = [o for o in outcomes if o.ok]
    result.n_units = len(ok)
    result.unit_failures = [
        o.message.replace(str(tmp_root), str(cfg.output_root)) for o in outcomes if not o.ok
    ]
    drafts = sum(o.draft for o in ok)
    _say(
        cfg,
        f"[{period}] báo cáo từng xã/phường: {len(ok)}/{len(outcomes)} xong"
        + (f" ({drafts} {report.DRAFT_MARK})" if drafts else "")
        + f", {_seconds(timings['per_commune'])} s: "
        + str(cfg.output_root / period / fanout.COMMUNES_DIR),
    )
    return fanout.unit_records(tmp_period, main_unit, outcomes)


def prepare_period(period: str, cfg: BatchConfig) -> list[Path]:
    """Write the parameterised notebooks of a period (not run) to
    ``<output_root>/_prepared/<period>/``, with the final folders as parameters."""
    import nbformat
    import papermill as pm

    _light_nbformat()
    out_dir = cfg.output_root / PREPARED_DIR / period
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    written = []
    for path in find_notebooks(cfg.notebooks_dir):
        out_path = out_dir / path.name
        pm.execute_notebook(
            str(path),
            str(out_path),
            parameters=_declared_only(
                _parameters(period, cfg, cfg.output_root), nbformat.read(path, as_version=4)
            ),
            kernel_name=KERNEL_NAME,
            language="python",
            prepare_only=True,
            progress_bar=False,
            log_output=False,
        )
        source_ids = _source_ids(nbformat.read(path, as_version=4))
        _finish_notebook(out_path, source_ids, None, str(cfg.output_root))
        written.append(out_path)
        _say(cfg, f"[{period}] {path.name:<36} đã chuẩn bị: {out_path}")
    return written


# --------------------------------------------------------------------------- many periods


def _run_in_worker(period: str, cfg: BatchConfig) -> PeriodResult:
    try:
        return run_period(period, cfg)
    except Exception as exc:  # never let one period take the pool down
        stops.log_exception(exc, f"Kỳ {period}:")
        where = f"; chi tiết trong {stops.log_path()}"
        msg = f"Kỳ {period}: lỗi không lường trước ({stops.describe_error(exc)}{where})."
        return PeriodResult(period, ok=False, message=msg)


def run_periods(
    periods: list[str], cfg: BatchConfig, jobs: int = 1, notebook_jobs: int | None = None
) -> list[PeriodResult]:
    """Run several periods, ``jobs`` at a time (separate processes, each running every
    ``jobs``-th period in order and reusing its kernels from one period to the next); results
    in period order.

    The cores left per period run the notebooks of one stage side by side
    (``cfg.notebook_jobs``): one period on 2 cores runs 20 and 30 together, two periods at
    once run each period's notebooks one after another. ``notebook_jobs`` overrides that."""
    jobs = max(1, min(jobs, len(periods)))
    if notebook_jobs is None:
        notebook_jobs = max(1, (os.cpu_count() or 1) // jobs)
    cfg = replace(cfg, notebook_jobs=notebook_jobs)
    if jobs == 1:
        return _run_chain(periods, cfg)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    cfg = replace(cfg, progress_bar=False)  # several bars on one terminal would garble
    context = multiprocessing.get_context("spawn")  # no inherited zmq/asyncio state
    # Each worker runs every jobs-th period, in order: its kernels go from one period to the
    # next, and a period's history finds the earlier periods' entries in the cache.
    chains = [periods[k::jobs] for k in range(jobs)]
    done: dict[str, PeriodResult] = {}
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        # SIGTERM from this process stops a worker in order; Ctrl+C is left to this process
        initializer=stops.init_worker,
        initargs=(str(stops.log_path()), "run"),
    )
    try:
        with stops.doing(f"chạy các kỳ {', '.join(periods)}"):
            with stops.children_ignore_ctrl_c():  # the workers start at the submits
                futures = [(chain, pool.submit(_run_chain, chain, cfg)) for chain in chains]
            for chain, future in futures:
                try:
                    done.update((r.period, r) for r in future.result())
                except Exception as exc:  # a worker process died
                    stops.log_exception(exc, f"Các kỳ {', '.join(chain)}:")
                    for period in chain:
                        msg = f"Kỳ {period}: tiến trình chạy bị dừng bất thường."
                        done[period] = PeriodResult(period, ok=False, message=msg)
    except BaseException:  # a stop: the workers stop their kernels and clean up first
        _stop_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [done[period] for period in periods]


def _stop_workers(pool, timeout: float = 30.0) -> None:
    """Ask each worker process of ``pool`` to stop (SIGTERM: it stops its kernels and removes
    its temporary folders, ``stops.init_worker``) and wait for it; kill one that does not end
    within ``timeout`` seconds."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    # no new work: a worker that has stopped its period then gets the pool's end, and exits
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(5)


def _run_chain(periods: list[str], cfg: BatchConfig) -> list[PeriodResult]:
    """Several periods one after another in this process; with kernels started ahead, a
    period's kernels are recycled for the next one (no new kernel, no imports again)."""
    cfg = replace(cfg, keep_kernels=cfg.prewarm and len(periods) > 1)
    try:
        return [_run_in_worker(period, cfg) for period in periods]
    finally:
        shutdown_idle_kernels()
        if stops.stopping():  # a kernel still starting when the stop came
            shutdown_all_kernels()


# --------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m analysis run",
        description=(
            "Chạy các notebook NN_*.ipynb theo thứ tự cho một hay nhiều kỳ báo cáo (papermill); "
            "kết quả ở <output-dir>/<kỳ>/ kèm manifest.json."
        ),
    )
    parser.add_argument(
        "--period",
        action="append",
        metavar="YYYY-MM-DD",
        help="kỳ báo cáo (có thể lặp lại); mặc định: kỳ mới nhất trong thư mục dữ liệu thô",
    )
    parser.add_argument("--all", action="store_true", help="chạy mọi kỳ có trong dữ liệu thô")
    parser.add_argument("--raw-dir", help="thư mục dữ liệu thô (mặc định data/raw)")
    parser.add_argument("--processed-dir", help="thư mục dữ liệu đã làm sạch (data/processed)")
    parser.add_argument("--output-dir", help="thư mục kết quả (mặc định outputs)")
    parser.add_argument("--notebooks-dir", help="thư mục notebook (mặc định notebooks)")
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="chỉ ghi các notebook đã điền tham số vào <output-dir>/_prepared/<kỳ>/, không chạy",
    )
    parser.add_argument(
        "--jobs", type=int, help="số kỳ chạy song song (mặc định: số lõi CPU, tối đa số kỳ)"
    )
    parser.add_argument(
        "--notebook-jobs",
        type=int,
        help="số notebook cùng bước (20-89) chạy song song trong một kỳ, và số tiến trình "
        "của bước làm sạch (mặc định: số lõi CPU chia cho số kỳ chạy song song)",
    )
    parser.add_argument(
        "--timeout", type=int, default=600, help="giới hạn thời gian mỗi ô, giây (mặc định 600)"
    )
    parser.add_argument(
        "--hide-code", action="store_true", help="ẩn mã trong notebook đã chạy (report mode)"
    )
    parser.add_argument(
        "--no-prewarm",
        action="store_true",
        help="không khởi động trước kernel của notebook kế tiếp (chậm hơn, để đo)",
    )
    parser.add_argument(
        "--unit",
        choices=["province", "commune", "district"],
        help="đơn vị báo cáo: province (Sở GD&ĐT), commune (UBND xã/phường), district (quận/"
        "huyện, các kỳ trước 1/7/2025); mặc định: suy ra từ dữ liệu",
    )
    parser.add_argument(
        "--per-commune",
        action="store_true",
        help="ngoài báo cáo của đơn vị, viết thêm một báo cáo cho mỗi xã/phường trong "
        "<output-dir>/<kỳ>/xa/<tên-xã>/",
    )
    parser.add_argument("--quiet", action="store_true", help="chỉ in lỗi và tóm tắt")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad option (2, message already printed)
        return int(exc.code or 0)
    try:
        if args.jobs is not None and args.jobs < 1:
            raise BatchError(f"--jobs phải là số nguyên dương (đang là {args.jobs}).")
        if args.notebook_jobs is not None and args.notebook_jobs < 1:
            raise BatchError(
                f"--notebook-jobs phải là số nguyên dương (đang là {args.notebook_jobs})."
            )
        if args.timeout < 1:
            raise BatchError(f"--timeout phải là số giây dương (đang là {args.timeout}).")
        cfg = make_config(
            args.raw_dir,
            args.processed_dir,
            args.output_dir,
            args.notebooks_dir,
            timeout=args.timeout,
            quiet=args.quiet,
            progress_bar=sys.stderr.isatty() and not args.quiet,
            prewarm=not args.no_prewarm,
            hide_code=args.hide_code,
            unit=args.unit or "",
            per_commune=args.per_commune,
        )
        periods = resolve_periods(cfg.raw_root, args.period, args.all)
    except BatchError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return EXIT_USAGE

    # A stop or an unexpected error (``analysis.stops``): details in <output-dir>/_logs/run.log,
    # and no kernel left running.
    stops.set_log(stops.log_for(cfg.output_root, "run"), "run")
    stops.on_stop(shutdown_all_kernels)
    if args.prepare_only:
        for period in periods:
            prepare_period(period, cfg)
        return EXIT_OK

    jobs = args.jobs or os.cpu_count() or 1
    results = run_periods(periods, cfg, jobs=jobs, notebook_jobs=args.notebook_jobs)
    failed = [r for r in results if not r.ok]
    unit_failures = [m for r in results if r.ok for m in r.unit_failures]
    for r in results:
        if r.ok:
            _say(
                cfg,
                f"[{r.period}] xong trong {_seconds(r.seconds)} s: {cfg.output_root / r.period}",
            )
            settings_line = manifest_mod.report_settings_line(cfg.output_root / r.period)
            if settings_line:
                _say(cfg, f"[{r.period}] {settings_line}")
    if unit_failures:
        print(
            f"Tóm tắt: {len(unit_failures)} báo cáo xã/phường lỗi (các báo cáo khác đã ghi):",
            file=sys.stderr,
        )
        for message in unit_failures:
            print(f"  - {message}", file=sys.stderr)
    if failed:
        print(
            f"Tóm tắt: {len(results) - len(failed)}/{len(results)} kỳ thành công; "
            f"{len(failed)} kỳ lỗi:",
            file=sys.stderr,
        )
        for r in failed:
            print(f"  - {r.message}", file=sys.stderr)
        return EXIT_FAILED
    if unit_failures:
        return EXIT_FAILED
    if len(results) > 1:
        _say(cfg, f"Tóm tắt: {len(results)}/{len(results)} kỳ thành công.")
    return EXIT_OK
