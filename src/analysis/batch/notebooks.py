"""The notebooks of a batch run: which run, in which stage, with which parameters; executing
one in its kernel; making an executed notebook byte-stable; the message of a failed one.

- ``notebook_stage`` / ``notebook_stages``: 10-19 clean, 20-89 analyses (side by side), 90-99
  report.
- ``notebook_imports``: the modules a notebook imports (``ast``), which its kernel preloads.
- ``execute_notebook``: papermill with the batch's engine, in a given ``WarmKernel``.
- ``normalise_notebook`` / ``finish_notebook``: no timestamps, the temporary root rewritten to
  the final one, deterministic cell ids.
- ``failure_message``: one Vietnamese line for a notebook that failed.
- ``notebook_parameters`` / ``declared_only``: the parameters papermill injects.
"""

from __future__ import annotations

import ast
import contextlib
from pathlib import Path

from analysis.batch.config import ENGINE_NAME, KERNEL_NAME, OWN_ERRORS, BatchConfig
from analysis.batch.kernels import WarmKernel, light_nbformat
from analysis.core import stops

INJECTED_CELL_ID = "injected-parameters"
#: Cell and notebook metadata that papermill / nbclient fill with timestamps.
_VOLATILE_NB_KEYS = ("start_time", "end_time", "duration", "exception")
_VOLATILE_CELL_KEYS = ("papermill", "execution", "ExecuteTime")


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


def finish_notebook(path: Path, source_ids: set[str], old_root: str | None, new_root: str):
    """Normalise the notebook papermill saved at ``path`` and write it back."""
    light_nbformat()
    import nbformat

    nb = nbformat.read(path, as_version=4)
    normalise_notebook(nb, source_ids=source_ids, old_root=old_root, new_root=new_root)
    nbformat.write(nb, path)
    return nb


def cell_ids(nb) -> set[str]:
    """The ids of a notebook's cells (the source's: every other id is normalised)."""
    return {cell.id for cell in nb.cells if "id" in cell}


def notebook_parameters(period: str, cfg: BatchConfig, output_root: Path) -> dict[str, str]:
    """The parameters every notebook gets, with ``output_root`` as the output folder."""
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


def declared_only(params: dict[str, str], nb) -> dict[str, str]:
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


def execute_notebook(
    path: Path, out_path: Path, parameters: dict, kernel: WarmKernel, cfg: BatchConfig, bar: bool
) -> None:
    """Run the notebook at ``path`` in ``kernel`` (papermill, the batch's engine), saving the
    executed notebook at ``out_path``; raises what papermill raises for a failure."""
    import papermill as pm

    pm.execute_notebook(
        str(path),
        str(out_path),
        parameters=parameters,
        engine_name=ENGINE_NAME,
        kernel_name=KERNEL_NAME,
        language="python",
        progress_bar=bar,
        log_output=False,
        request_save_on_cell_execute=False,
        execution_timeout=cfg.timeout,
        report_mode=cfg.hide_code,
        # The kernel was started in the notebooks folder; papermill's ``cwd`` would
        # chdir the whole process, which two notebooks in threads must not do.
        cwd=None,
        warm_kernel=kernel,
    )


def failure_message(period: str, name: str, exc: BaseException, saved: Path | None) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        where = f"ô In [{exc.exec_count}] (ô thứ {exc.cell_index + 1}, tính cả ô tham số chèn vào)"
        own = exc.ename in OWN_ERRORS
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
