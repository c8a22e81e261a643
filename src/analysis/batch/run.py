"""Running periods: one period as a recipe of steps, several periods in worker processes, and
the parameterised notebooks alone (``--prepare-only``).

``run_period``: prepare the temporary folder (and the first stage's kernels), run the stages
(the notebooks of one stage side by side, the next stage's kernels starting meanwhile), then,
when every notebook succeeded, the per-commune reports (``--per-commune``), the manifest and
the swap into ``<output_root>/<period>`` (``analysis.core.io.swap_in``); whatever happens, the
kernels are stopped and the temporary folder removed. ``run_periods``: several periods, each
worker process running every ``jobs``-th period in order.

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
  folders in that many processes (``analysis.core.parallel``), so one period uses every core even
  in its single-notebook first stage, and periods run side by side do not oversubscribe them.
- Before a notebook runs, nbclient checks that its kernel is ready (a kernel_info reply, then
  IOPub drained); the batch's client (``QuickReadyClient``) does the same handshake with
  20 ms IOPub waits instead of jupyter_client's 0,2 s, which cost every notebook 0,2 s.
- A kernel whose notebook has run is stopped at once, not asked to exit gracefully (0,7-1,2 s
  per notebook saved on the critical path).
- Executed notebooks are normalised before saving: no papermill/nbclient timestamps, the
  temporary root rewritten to the final one, deterministic cell ids. Timings go to the
  manifest's ``timings`` key.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from analysis import paths
from analysis.batch import kernels
from analysis.batch import manifest as manifest_mod
from analysis.batch import notebooks as nbs
from analysis.batch.config import (
    FAILED_DIR,
    KERNEL_NAME,
    PREPARED_DIR,
    BatchConfig,
    NotebookRun,
    PeriodResult,
    _say,
    _seconds,
    find_notebooks,
)
from analysis.batch.kernels import WarmKernel
from analysis.core import io, parallel, stops


@dataclass
class _Outcome:
    index: int
    seconds: float
    error: BaseException | None = None


class _PeriodKernels:
    """The kernels of one period's notebooks: started ahead for a stage, running a notebook,
    recycled for a notebook of the next stage, stopped."""

    def __init__(self, cfg: BatchConfig):
        self.cfg = cfg
        self.imports: list[list[str]] = []  # per notebook, the modules its kernel preloads
        self.waiting: dict[int, WarmKernel] = {}  # started ahead, waiting for their notebook
        self.running: dict[int, WarmKernel] = {}  # running their notebook
        self.claims: list[int] = []  # notebooks of the next stage waiting for a recycled kernel
        self.lock = threading.Lock()

    def start_for(self, stage: list[int], freed: int) -> None:
        """Kernels for a stage: the running stage frees ``freed`` kernels when its notebooks
        end, which the last notebooks of this stage take (``release``); the others get a
        kernel started now."""
        fresh = stage[: max(0, len(stage) - freed)]
        for index in fresh:
            self.waiting[index] = kernels.take_kernel(self.imports[index], self.cfg)
        with self.lock:
            self.claims[:] = [index for index in stage if index not in fresh]

    def take(self, index: int) -> WarmKernel:
        """The kernel notebook ``index`` runs in: its own started ahead, or one started now
        (no prewarm, or its kernel was not freed)."""
        with self.lock:
            kernel = self.waiting.pop(index, None)
        if kernel is None:
            kernel = WarmKernel([], self.cfg.notebooks_dir, self.cfg.notebook_jobs)
        with self.lock:
            self.running[index] = kernel
        return kernel

    def release(self, index: int, kernel: WarmKernel, ok: bool) -> None:
        """A notebook has run in ``kernel``: recycle it for a waiting notebook, or stop it."""
        with self.lock:
            self.running.pop(index, None)
            claimant = self.claims.pop(0) if ok and self.claims else None
        if claimant is None:
            if ok:
                kernels.set_aside(kernel, self.cfg)
            else:
                kernel.shutdown()
            return
        recycled = kernel.recycle(self.imports[claimant])
        with self.lock:
            self.waiting[claimant] = recycled

    def stop_running(self) -> None:
        """Stop the kernels of the notebooks running now: their threads then end (nbclient
        finds the kernel dead within a second)."""
        with self.lock:
            busy = list(self.running.values())
        for kernel in busy:
            kernel.shutdown()

    def stop_all(self) -> None:
        """Stop every kernel left: of stages that did not run, or stopped."""
        with self.lock:
            left = [*self.waiting.values(), *self.running.values()]
            self.waiting.clear()
            self.running.clear()
        for kernel in left:
            kernel.shutdown()


class _PeriodRun:
    """One period's run: its folders, notebooks, kernels, timings and result; the steps of
    ``run_period`` are its methods."""

    def __init__(self, period: str, cfg: BatchConfig):
        self.period, self.cfg = period, cfg
        self.started = time.perf_counter()
        self.failed_dir = cfg.output_root / FAILED_DIR / period
        self.tmp_root = cfg.output_root / f".tmp-{period}-{os.getpid()}"
        self.tmp_period = self.tmp_root / period
        self.nb_out_dir = self.tmp_period / "notebooks"
        self.params = nbs.notebook_parameters(period, cfg, self.tmp_root)
        self.notebooks = find_notebooks(cfg.notebooks_dir)
        self.stages = nbs.notebook_stages(self.notebooks)
        self.sources: list = []
        self.result = PeriodResult(period, ok=False)
        self.timings: dict[str, float] = {}
        self.kernels = _PeriodKernels(cfg)

    # ----------------------------------------------------------------------- steps

    def prepare(self) -> None:
        """An empty temporary folder, no leftovers of a killed run, the notebooks read and
        the first stage's kernels booting."""
        output_root = self.cfg.output_root
        output_root.mkdir(parents=True, exist_ok=True)
        paths.remove_leftovers(output_root, self.period)
        shutil.rmtree(self.failed_dir, ignore_errors=True)
        shutil.rmtree(self.tmp_root, ignore_errors=True)
        self.nb_out_dir.mkdir(parents=True)
        # The imports to preload, from the JSON: the first kernel starts before nbformat
        # and papermill are imported here (0,2 s and 1 s), and boots meanwhile.
        self.kernels.imports[:] = [
            nbs.notebook_imports(json.loads(p.read_text(encoding="utf-8"))) for p in self.notebooks
        ]
        if self.cfg.prewarm:
            self.kernels.start_for(self.stages[0], 0)
        # nbformat and papermill are imported while the first kernels boot (about 1 s each).
        kernels.light_nbformat()
        import nbformat
        import papermill  # noqa: F401

        self.sources[:] = [nbformat.read(p, as_version=4) for p in self.notebooks]
        kernels.register_engine()

    def run_stages(self) -> bool:
        """Every stage in order, the next stage's kernels starting while one runs; False (and
        the result's message set) once a stage had a failing notebook."""
        for number, stage in enumerate(self.stages):
            if self.cfg.prewarm and number + 1 < len(self.stages):
                self.kernels.start_for(self.stages[number + 1], len(stage))
            if not self.record(self.run_stage(stage)):
                return False
        return True

    def finish(self) -> None:
        """Every notebook succeeded: the per-commune reports (``--per-commune``), the manifest,
        and the period swapped in."""
        cfg = self.cfg
        parameters = {
            **nbs.notebook_parameters(self.period, cfg, cfg.output_root),
            "notebooks_dir": str(cfg.notebooks_dir),
            "notebooks": [p.name for p in self.notebooks],
            "kernel": KERNEL_NAME,
            "timeout": cfg.timeout,
        }
        unit_records = None
        if cfg.per_commune:
            unit_records = _fan_out(
                self.period, cfg, self.tmp_root, self.tmp_period, self.result, self.timings
            )
            parameters["per_commune"] = True
        self.result.seconds = time.perf_counter() - self.started
        data = manifest_mod.build_manifest(
            period=self.period,
            parameters=parameters,
            raw_root=cfg.raw_root,
            processed_root=cfg.processed_root,
            period_dir=self.tmp_period,
            timings={"notebooks": self.timings, "total_seconds": round(self.result.seconds, 3)},
            units=unit_records,
        )
        manifest_mod.write_manifest(data, self.tmp_period)
        io.swap_in(self.tmp_period, cfg.output_root / self.period)
        self.result.ok = True

    def fail(self, exc: Exception) -> None:
        """Our own step (manifest, swap) failed: the same rules as a failing notebook."""
        period = self.period
        stops.log_exception(exc, f"Kỳ {period}: không hoàn tất được kết quả.")
        self.result.message = (
            f"Kỳ {period}: không hoàn tất được kết quả ({stops.describe_error(exc)}; chi "
            f"tiết trong {stops.log_path()}). Kết quả cũ của kỳ {period} (nếu có) được "
            "giữ nguyên."
        )

    def clean_up(self) -> None:
        """Every kernel stopped, the temporary folder removed, and after a failure what a
        killed kernel left half-written in the processed folder undone."""
        with stops.deferred():  # a signal now waits for the cleanup to end
            self.kernels.stop_all()
            shutil.rmtree(self.tmp_root, ignore_errors=True)
            if not self.result.ok:  # a kernel stopped while its cleaning wrote
                paths.remove_leftovers(self.cfg.processed_root, self.period)
            self.result.seconds = time.perf_counter() - self.started

    # ----------------------------------------------------------------------- one stage

    def run_stage(self, stage: list[int]) -> list[_Outcome]:
        """The notebooks of a stage, side by side up to ``notebook_jobs`` (threads: each only
        relays messages to its kernel, a separate process), else one after another. Several
        progress bars on one terminal would garble: a bar only when one runs at a time."""
        cfg = self.cfg
        width = min(len(stage), cfg.notebook_jobs) if cfg.notebook_jobs > 1 else 1
        bar = cfg.progress_bar and width == 1
        pool = ThreadPoolExecutor(width, thread_name_prefix=f"hocbaso-{self.period}")
        try:
            futures = [pool.submit(self.execute, index, bar) for index in stage]
            return [future.result() for future in futures]
        except BaseException:  # a stop while the notebooks run
            self.kernels.stop_running()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def execute(self, index: int, bar: bool) -> _Outcome:
        """Notebook ``index`` in its kernel (in a thread of ``run_stage``)."""
        path = self.notebooks[index]
        kernel = self.kernels.take(index)
        out_path = self.nb_out_dir / path.name
        t0 = time.perf_counter()
        try:
            with stops.doing(f"notebook {path.name}"):
                parameters = nbs.declared_only(self.params, self.sources[index])
                nbs.execute_notebook(path, out_path, parameters, kernel, self.cfg, bar)
        except Exception as exc:  # a failing notebook, a dead kernel, a timeout
            seconds = time.perf_counter() - t0
            self.kernels.release(index, kernel, ok=False)
            return _Outcome(index, seconds, exc)
        seconds = time.perf_counter() - t0
        self.kernels.release(index, kernel, ok=True)
        return _Outcome(index, seconds)

    def record(self, outcomes: list[_Outcome]) -> bool:
        """Each notebook of a stage: its line, its timing, its executed notebook normalised
        (a failed one also saved under ``_failed/``). False if one failed: the first failing
        notebook (name order) is the one reported."""
        failures = []
        for outcome in outcomes:
            name = self.notebooks[outcome.index].name
            ok = outcome.error is None
            self.result.notebooks.append(NotebookRun(name, outcome.seconds, ok=ok))
            state = "ok" if ok else "lỗi"
            _say(self.cfg, f"[{self.period}] {name:<36} {_seconds(outcome.seconds):>6} s  {state}")
            if ok:
                self.timings[name] = round(outcome.seconds, 3)
                self._finish(self.nb_out_dir / name, outcome.index)
            else:
                failures.append(self._save_failed(outcome))
        if not failures:
            return True
        message, saved = failures[0]
        if len(failures) > 1:
            message += f" ({len(failures) - 1} notebook khác cùng bước cũng lỗi.)"
        self.result.message = message
        self.result.failed_notebook = str(saved) if saved else None
        return False

    def _finish(self, path: Path, index: int) -> None:
        """Normalise the executed notebook at ``path``, with the final output root."""
        ids = nbs.cell_ids(self.sources[index])
        nbs.finish_notebook(path, ids, str(self.tmp_root), str(self.cfg.output_root))

    def _save_failed(self, outcome: _Outcome) -> tuple[str, Path | None]:
        """A failed notebook's message, and its executed copy saved under ``_failed/``."""
        name = self.notebooks[outcome.index].name
        out_path = self.nb_out_dir / name
        saved = None
        if out_path.is_file():
            self.failed_dir.mkdir(parents=True, exist_ok=True)
            saved = self.failed_dir / name
            shutil.copyfile(out_path, saved)
            self._finish(saved, outcome.index)
        message = nbs.failure_message(self.period, name, outcome.error, saved)
        return message.replace(str(self.tmp_root), str(self.cfg.output_root)), saved


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
    run = _PeriodRun(period, cfg)
    with stops.doing(f"chạy kỳ {period}"):
        try:
            run.prepare()
            if run.run_stages():
                run.finish()
        except Exception as exc:
            run.fail(exc)
        finally:
            run.clean_up()
    return run.result


def _fan_out(
    period: str,
    cfg: BatchConfig,
    tmp_root: Path,
    tmp_period: Path,
    result: PeriodResult,
    timings: dict,
) -> list[dict]:
    """--per-commune: every commune's report in ``<tmp_period>/xa/<slug>/`` (in this process,
    ``analysis.batch.fanout``), before the period is swapped in; returns the manifest's ``units``.
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

    kernels.light_nbformat()
    out_dir = cfg.output_root / PREPARED_DIR / period
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    written = []
    for path in find_notebooks(cfg.notebooks_dir):
        out_path = out_dir / path.name
        pm.execute_notebook(
            str(path),
            str(out_path),
            parameters=nbs.declared_only(
                nbs.notebook_parameters(period, cfg, cfg.output_root),
                nbformat.read(path, as_version=4),
            ),
            kernel_name=KERNEL_NAME,
            language="python",
            prepare_only=True,
            progress_bar=False,
            log_output=False,
        )
        ids = nbs.cell_ids(nbformat.read(path, as_version=4))
        nbs.finish_notebook(out_path, ids, None, str(cfg.output_root))
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
    cfg = replace(cfg, progress_bar=False)  # several bars on one terminal would garble
    done = _run_chains(periods, jobs, cfg)
    return [done[period] for period in periods]


def _run_chains(periods: list[str], jobs: int, cfg: BatchConfig) -> dict[str, PeriodResult]:
    """``periods`` in ``jobs`` worker processes (``_run_chain``); the results by period. A
    stop stops the workers in order (``_stop_workers``) before it goes on."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Each worker runs every jobs-th period, in order: its kernels go from one period to the
    # next, and a period's history finds the earlier periods' entries in the cache.
    chains = [periods[k::jobs] for k in range(jobs)]

    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),  # no inherited zmq/asyncio state
        # SIGTERM from this process stops a worker in order; Ctrl+C is left to this process
        initializer=stops.init_worker,
        initargs=(str(stops.log_path()), "run"),
    )
    workers: list = []
    try:
        with stops.doing(f"chạy các kỳ {', '.join(periods)}"):
            # the workers start at the submits
            with stops.children_ignore_ctrl_c(), parallel.started_processes() as workers:
                futures = [(chain, pool.submit(_run_chain, chain, cfg)) for chain in chains]
            return _chain_results(futures)
    except BaseException:  # a stop: the workers stop their kernels and clean up first
        _stop_workers(pool, workers)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _chain_results(futures: list) -> dict[str, PeriodResult]:
    """The results of the chains' futures by period; every period of a chain whose worker
    process died fails with one message."""
    done: dict[str, PeriodResult] = {}
    for chain, future in futures:
        try:
            done.update((r.period, r) for r in future.result())
        except Exception as exc:  # a worker process died
            stops.log_exception(exc, f"Các kỳ {', '.join(chain)}:")
            for period in chain:
                msg = f"Kỳ {period}: tiến trình chạy bị dừng bất thường."
                done[period] = PeriodResult(period, ok=False, message=msg)
    return done


def _stop_workers(pool, processes: list, timeout: float = 30.0) -> None:
    """Ask each worker process of ``pool`` (``processes``) to stop (SIGTERM: it stops its
    kernels and removes its temporary folders, ``stops.init_worker``) and wait for it; kill
    one that does not end within ``timeout`` seconds."""
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
        kernels.shutdown_idle_kernels()
        if stops.stopping():  # a kernel still starting when the stop came
            kernels.shutdown_all_kernels()
