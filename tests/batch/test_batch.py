"""The batch (analysis.batch, analysis.batch.manifest) on tiny throwaway notebooks.

Real papermill runs with real kernels, on notebooks written here with nbformat following the
parameters convention of docs/ARCHITECTURE.md; results are read back from the files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from analysis import batch
from analysis.batch import kernels, manifest
from analysis.batch import run as batch_run

batch.light_nbformat()  # nbformat without the slow rfc3987_syntax grammar (batch.kernels)
import nbformat  # noqa: E402

P1, P2 = "2024-01-10", "2024-02-20"

PARAMS = (
    'period = ""  # kỳ báo cáo\n'
    'raw_dir = ""  # dữ liệu thô\n'
    'processed_dir = ""  # dữ liệu sạch\n'
    'output_dir = ""  # kết quả'
)

# Stands in for 10_clean: records what it was given, writes a quality.json like the real one.
CLEAN = """\
import json
from pathlib import Path
from analysis.paths import RunConfig
cfg = RunConfig.from_params(period, raw_dir, processed_dir, output_dir)
cfg.processed.mkdir(parents=True, exist_ok=True)
served = {"cbgvnv": cfg.period, "truong": "2024-01-10"}
inputs = [{"file": "x.csv", "rows_read": 7, "kept": 5, "quarantined": 2}]
quality = {"period": cfg.period, "sample": False, "served": served, "inputs": inputs,
           "repairs": {"nfc": 3}}
(cfg.processed / "quality.json").write_text(json.dumps(quality, sort_keys=True), encoding="utf-8")
cfg.out.mkdir(parents=True, exist_ok=True)
# the temporary root carries the pid: record its parent and name without it (stable bytes)
tmp_name = Path(output_dir).name.rsplit("-", 1)[0]
given = [period, raw_dir, processed_dir, str(Path(output_dir).parent), tmp_name]
(cfg.out / "params.json").write_text(json.dumps(given))
print("Ghi vào", cfg.out)
"""
NAMESPACE = "print(sorted(k for k in globals() if not k.startswith('_')))"
# Stands in for 20_coverage: a table, a headline, a figure-like file per period.
METRICS = """\
import json
from analysis.paths import RunConfig
cfg = RunConfig.from_params(period, raw_dir, processed_dir, output_dir)
cfg.tables.mkdir(parents=True, exist_ok=True)
n = int(cfg.period[5:7])
(cfg.tables / "headline.json").write_text(json.dumps({"signed_th": 1000 + n, "staff_th": 1787}))
table = f"level,n_signed\\nTiểu học,{1000 + n}\\n"
(cfg.tables / "coverage_by_level.csv").write_text(table, encoding="utf-8")
"""
BOOM = 'raise ValueError("Cột Chữ ký số bị thiếu")'


def read_manifest(period_dir: Path | str) -> dict:
    """The manifest a run wrote for a period."""
    return json.loads((Path(period_dir) / manifest.MANIFEST_NAME).read_text(encoding="utf-8"))


def comparable(data: Mapping) -> dict:
    """A manifest without what legitimately differs between two runs of the same inputs."""
    return {k: v for k, v in data.items() if k != "timings"}


def write_notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Sổ thử"),
        nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        *(nbformat.v4.new_code_cell(code) for code in cells),
    ]
    nbformat.write(nb, path)
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch")
    raw = root / "raw"
    for period, text in ((P1, "a;b\n1;2\n"), (P2, "a;b\n3;4\n")):
        (raw / period).mkdir(parents=True)
        (raw / period / "cbgvnv.csv").write_text(text, encoding="utf-8")
    (raw / "school_aliases.csv").write_text("alias,school_code,note\n", encoding="utf-8")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks / "10_clean.ipynb", CLEAN, NAMESPACE)
    write_notebook(notebooks / "20_metrics.ipynb", METRICS, NAMESPACE)
    (notebooks / "README.md").write_text("not a notebook")
    (notebooks / "scratch.ipynb").write_text("{}")  # not NN_*: never run
    return root


def argv(project: Path, out: Path, *extra: str, notebooks: Path | None = None) -> list[str]:
    return [
        "--raw-dir",
        str(project / "raw"),
        "--processed-dir",
        str(out / "processed"),
        "--output-dir",
        str(out / "outputs"),
        "--notebooks-dir",
        str(notebooks or project / "notebooks"),
        *extra,
    ]


@pytest.fixture(scope="module")
def good_run(project, tmp_path_factory):
    """Both periods, in parallel, once for the module."""
    out = tmp_path_factory.mktemp("good")
    code = batch.main(argv(project, out, "--all", "--jobs", "2", "--quiet"))
    return code, out


# --------------------------------------------------------------------------- bad parameters


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--period", "2024-13-45"], "không phải một ngày có thật"),
        (["--period", "19/04/2024"], "cần dạng YYYY-MM-DD"),
        (["--period", "2024-03-01"], "không có thư mục dữ liệu thô"),
        (["--period", P1, "--all"], "--all hoặc --period"),
        (["--jobs", "0"], "--jobs phải là số nguyên dương"),
        (["--notebook-jobs", "0"], "--notebook-jobs phải là số nguyên dương"),
        (["--timeout", "0"], "--timeout phải là số giây dương"),
        (["--raw-dir", "/khong/co/thu/muc"], "Thư mục dữ liệu thô /khong/co/thu/muc không tồn tại"),
        (["--notebooks-dir", "/khong/co/nb"], "Thư mục notebook /khong/co/nb không tồn tại"),
        (["--thu-nghiem"], "Tham số không hợp lệ"),
    ],
)
def test_bad_parameters_exit_2_before_any_kernel(
    project, tmp_path, capsys, monkeypatch, extra, expected
):
    def no_kernel(*args, **kwargs):
        raise AssertionError("a kernel was about to start")

    monkeypatch.setattr(batch_run, "run_period", no_kernel)
    monkeypatch.setattr(batch_run, "WarmKernel", no_kernel)
    monkeypatch.setattr(kernels, "WarmKernel", no_kernel)
    assert batch.main(argv(project, tmp_path) + extra) == 2
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "outputs").exists()


def test_output_inside_raw_is_refused(project, tmp_path, capsys):
    code = batch.main(argv(project, tmp_path) + ["--output-dir", str(project / "raw" / "out")])
    assert code == 2
    assert "dữ liệu thô chỉ được đọc" in capsys.readouterr().err
    assert not (project / "raw" / "out").exists()


def test_notebooks_dir_without_nn_notebooks(project, tmp_path, capsys):
    empty = tmp_path / "nb"
    empty.mkdir()
    write_notebook(empty / "clean.ipynb", "1")  # no NN_ prefix
    assert batch.main(argv(project, tmp_path, notebooks=empty)) == 2
    assert "không có notebook nào dạng NN_ten.ipynb" in capsys.readouterr().err


def test_default_period_is_the_latest(project):
    assert batch.resolve_periods(project / "raw", None, False) == [P2]
    assert batch.resolve_periods(project / "raw", [P2, P1, P2], False) == [P1, P2]
    assert batch.resolve_periods(project / "raw", None, True) == [P1, P2]


# --------------------------------------------------------------------------- a good run


def test_good_run_swaps_outputs_in(good_run):
    code, out = good_run
    assert code == 0
    outputs = out / "outputs"
    assert sorted(p.name for p in outputs.iterdir()) == [P1, P2]  # no .tmp-*, no _failed
    for period in (P1, P2):
        names = sorted(p.name for p in (outputs / period / "notebooks").iterdir())
        assert names == ["10_clean.ipynb", "20_metrics.ipynb"]


def test_parameters_are_injected_as_absolute_paths(good_run, project):
    _, out = good_run
    seen = json.loads((out / "outputs" / P1 / "params.json").read_text())
    period, raw_dir, processed_dir, output_parent, output_name = seen
    assert period == P1
    assert raw_dir == str((project / "raw").resolve())
    assert processed_dir == str((out / "processed").resolve())
    # during the run the notebooks write into the temporary root, never the final folder
    assert output_parent == str((out / "outputs").resolve())
    assert output_name == f".tmp-{P1}"
    # the saved notebook shows the final root instead
    nb = nbformat.read(out / "outputs" / P1 / "notebooks" / "10_clean.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and injected[0].id == "injected-parameters"
    assert f'output_dir = "{(out / "outputs").resolve()}"' in injected[0].source
    assert nb.metadata.papermill.parameters["output_dir"] == str((out / "outputs").resolve())
    printed = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert f"Ghi vào {(out / 'outputs' / P1).resolve()}" in printed


def test_executed_notebooks_carry_no_timestamps_nor_temp_paths(good_run):
    _, out = good_run
    for path in (out / "outputs").rglob("*.ipynb"):
        text = path.read_text(encoding="utf-8")
        for volatile in ("start_time", "end_time", "duration", '"execution"', ".tmp-", "iopub."):
            assert volatile not in text, (path.name, volatile)
        nb = nbformat.read(path, as_version=4)
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1))  # a fresh kernel per notebook


def test_prewarmed_kernel_leaves_the_namespace_clean(good_run):
    _, out = good_run
    nb = nbformat.read(out / "outputs" / P2 / "notebooks" / "10_clean.ipynb", as_version=4)
    names = eval(nb.cells[-1].outputs[0]["text"])  # the NAMESPACE cell's printed list
    assert "cfg" in names and "json" in names and "RunConfig" in names
    assert "importlib" not in names and not any("preload" in n for n in names)


def test_recycled_kernel_starts_afresh(good_run):
    """20 runs in the kernel 10 ran in (reset, then its modules imported): none of 10's
    variables is left, the execution count starts again at 1, and 20's own names are there."""
    _, out = good_run
    nb = nbformat.read(out / "outputs" / P2 / "notebooks" / "20_metrics.ipynb", as_version=4)
    names = eval(nb.cells[-1].outputs[0]["text"])
    assert "cfg" in names and "table" in names and "n" in names
    for left_by_10 in ("quality", "served", "inputs", "given", "tmp_name", "Path"):
        assert left_by_10 not in names
    counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))


def test_manifest_content(good_run, project):
    _, out = good_run
    period_dir = out / "outputs" / P1
    data = read_manifest(period_dir)
    assert data["period"] == P1
    assert data["parameters"]["output_dir"] == str((out / "outputs").resolve())
    assert data["parameters"]["notebooks"] == ["10_clean.ipynb", "20_metrics.ipynb"]
    # inputs: top-level files and period folders <= P1 only, hashes of the real files
    files = {f["path"]: f for f in data["inputs"]["files"]}
    assert sorted(files) == [f"{P1}/cbgvnv.csv", "school_aliases.csv"]
    raw_file = project / "raw" / P1 / "cbgvnv.csv"
    assert files[f"{P1}/cbgvnv.csv"]["sha256"] == sha(raw_file)
    assert data["inputs"]["served"] == {"cbgvnv": P1, "truong": "2024-01-10"}
    # every artefact (but the manifest) with a hash that matches the file
    artefacts = {a["path"]: a for a in data["artefacts"]}
    on_disk = sorted(
        p.relative_to(period_dir).as_posix() for p in period_dir.rglob("*") if p.is_file()
    )
    assert sorted(artefacts) == [p for p in on_disk if p != "manifest.json"]
    for rel, item in artefacts.items():
        assert item["sha256"] == sha(period_dir / rel)
        assert item["size"] == (period_dir / rel).stat().st_size
    assert data["headline"] == {"signed_th": 1001, "staff_th": 1787}
    assert data["accounting"]["repairs"] == {"nfc": 3}
    assert data["accounting"]["inputs"][0]["rows_read"] == 7
    assert [f["path"] for f in data["processed"]["files"]] == ["quality.json"]
    assert data["packages"]["pandas"].startswith("3.")
    assert data["packages"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert set(data["code"]) == {"commit", "dirty"}
    assert set(data["timings"]["notebooks"]) == {"10_clean.ipynb", "20_metrics.ipynb"}
    text = (period_dir / "manifest.json").read_text(encoding="utf-8")
    assert text == manifest.dumps(data)  # sorted keys, indent 2


def test_second_period_sees_carry_forward_inputs(good_run):
    _, out = good_run
    data = read_manifest(out / "outputs" / P2)
    paths = [f["path"] for f in data["inputs"]["files"]]
    assert paths == ["school_aliases.csv", f"{P1}/cbgvnv.csv", f"{P2}/cbgvnv.csv"]
    assert data["headline"]["signed_th"] == 1002


def test_rerun_is_byte_identical(good_run, project, capsys):
    _, out = good_run
    before = snapshot(out / "outputs" / P2)
    first = read_manifest(out / "outputs" / P2)
    assert batch.main(argv(project, out, "--period", P2)) == 0
    captured = capsys.readouterr().out
    assert f"[{P2}] 10_clean.ipynb" in captured and "ok" in captured
    after = snapshot(out / "outputs" / P2)
    assert sorted(before) == sorted(after)
    changed = [name for name in before if before[name] != after[name]]
    assert changed in ([], ["manifest.json"])  # only the timings may differ
    second = read_manifest(out / "outputs" / P2)
    assert comparable(first) == comparable(second)


# --------------------------------------------------------------------------- failures


def test_failure_keeps_previous_outputs_and_saves_the_notebook(good_run, project, tmp_path, capfd):
    _, out = good_run
    broken = tmp_path / "notebooks"
    shutil.copytree(project / "notebooks", broken)
    write_notebook(broken / "15_check.ipynb", "x = 1", BOOM, "y = 2")
    before = snapshot(out / "outputs" / P1)
    code = batch.main(argv(project, out, "--period", P1, notebooks=broken))
    err = capfd.readouterr().err
    assert code == 1
    assert snapshot(out / "outputs" / P1) == before  # previous good outputs untouched
    assert "15_check.ipynb" in err and "ô thứ 5" in err and "In [4]" in err
    assert "ValueError: Cột Chữ ký số bị thiếu" in err
    saved = out / "outputs" / "_failed" / P1 / "15_check.ipynb"
    assert str(saved) in err
    nb = nbformat.read(saved, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "ename" in o]
    assert [(e["ename"], e["evalue"]) for e in errors] == [("ValueError", "Cột Chữ ký số bị thiếu")]
    assert not any("y = 2" in c.source and c.execution_count for c in nb.cells)
    assert ".tmp-" not in saved.read_text(encoding="utf-8")
    leftovers = [p.name for p in (out / "outputs").iterdir() if p.name.startswith(".")]
    assert leftovers == []
    # a later good run clears the failed copy
    assert batch.main(argv(project, out, "--period", P1, "--quiet")) == 0
    assert not (out / "outputs" / "_failed" / P1).exists()


def test_parallel_periods_one_fails_the_other_still_runs(project, tmp_path, capfd):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    write_notebook(nbs / "10_clean.ipynb", CLEAN)
    write_notebook(nbs / "20_metrics.ipynb", f"if period == {P1!r}:\n    {BOOM}", METRICS)
    code = batch.main(argv(project, tmp_path, "--all", "--jobs", "2", notebooks=nbs))
    captured = capfd.readouterr()
    assert code == 1
    assert (tmp_path / "outputs" / P2 / "manifest.json").is_file()
    assert not (tmp_path / "outputs" / P1).exists()
    assert (tmp_path / "outputs" / "_failed" / P1 / "20_metrics.ipynb").is_file()
    assert "1/2 kỳ thành công" in captured.err
    assert f"Kỳ {P1}: notebook 20_metrics.ipynb" in captured.err
    assert f"Kỳ {P2}" not in captured.err
    assert f"[{P2}] 20_metrics.ipynb" in captured.out


def test_prepare_only_writes_parameterised_notebooks_without_running(project, tmp_path):
    assert batch.main(argv(project, tmp_path, "--period", P1, "--prepare-only", "--quiet")) == 0
    prepared = tmp_path / "outputs" / "_prepared" / P1
    assert sorted(p.name for p in prepared.iterdir()) == ["10_clean.ipynb", "20_metrics.ipynb"]
    nb = nbformat.read(prepared / "10_clean.ipynb", as_version=4)
    assert all(c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
    assert f'period = "{P1}"' in nb.cells[2].source
    assert not (tmp_path / "outputs" / P1).exists()
    assert not (tmp_path / "processed").exists()


# --------------------------------------------------------------------------- units


def test_kernel_is_this_python_on_ipc():
    km = batch.kernel_manager_class()(kernel_name="python3")
    assert km.transport == "ipc"
    assert km.kernel_spec.argv[0] == sys.executable
    other = batch.kernel_manager_class()(kernel_name="python3")
    assert km.ip != other.ip  # distinct socket prefixes: no collision between kernels


def test_ready_check_of_a_running_kernel_then_of_a_stopped_one(tmp_path):
    """The batch's clients (short IOPub waits) still do jupyter_client's handshake: ready
    when the kernel answers, then it runs code; an error once the kernel is gone."""
    from jupyter_core.utils import run_sync

    kernel = batch.WarmKernel([], tmp_path, 1)
    kc = kernel.km.client()
    assert type(kc).__name__ == "QuickReadyClient"
    kc.start_channels()
    try:
        run_sync(kc.wait_for_ready)(timeout=60)

        async def ask():
            return await kc.execute("6 * 7", reply=True, timeout=30)

        reply = run_sync(ask)()
        assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        kernel.shutdown()
    kc = kernel.km.client()
    kc.start_channels()
    try:
        with pytest.raises(RuntimeError, match="died|respond"):
            run_sync(kc.wait_for_ready)(timeout=3)
    finally:
        kc.stop_channels()


def test_notebook_imports_found_with_ast():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import pandas as pd\nfrom analysis import metrics, fmt"),
        nbformat.v4.new_code_cell("%matplotlib inline"),
        nbformat.v4.new_code_cell("from . import x\nimport matplotlib.pyplot as plt"),
        nbformat.v4.new_markdown_cell("import os"),
    ]
    assert batch.notebook_imports(nb) == [
        "analysis",
        "analysis.fmt",
        "analysis.metrics",
        "matplotlib.pyplot",
        "pandas",
    ]
    # the same from the file's JSON, where a cell's source is a list of lines
    as_json = json.loads(nbformat.writes(nb))
    assert isinstance(as_json["cells"][0]["source"], list)
    assert batch.notebook_imports(as_json) == batch.notebook_imports(nb)


def test_normalise_notebook_strips_timings_and_rewrites_root():
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {
        "start_time": "t",
        "duration": 1.0,
        "parameters": {"o": "/r/.tmp-x-1"},
    }
    source = nbformat.v4.new_code_cell("print(1)")
    injected = nbformat.v4.new_code_cell(
        "o = '/r/.tmp-x-1'", metadata={"tags": ["injected-parameters"]}
    )
    injected.metadata["papermill"] = {"start_time": "t"}
    injected.metadata["execution"] = {"iopub.status.busy": "t"}
    injected.outputs = [nbformat.v4.new_output("stream", text="/r/.tmp-x-1/2024/a.csv\n")]
    nb.cells = [source, injected]
    batch.normalise_notebook(nb, source_ids={source.id}, old_root="/r/.tmp-x-1", new_root="/r")
    assert nb.metadata.papermill == {"parameters": {"o": "/r"}}
    assert nb.cells[0].id == source.id
    assert nb.cells[1].id == "injected-parameters"
    assert nb.cells[1].metadata == {"tags": ["injected-parameters"]}
    assert nb.cells[1].outputs[0]["text"] == "/r/2024/a.csv\n"
    nbformat.validate(nb)


def test_hash_tree_is_sorted_and_excludes(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_bytes(b"z")
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "manifest.json").write_bytes(b"{}")
    items = manifest.hash_tree(tmp_path, exclude=["manifest.json"])
    assert [i["path"] for i in items] == ["a.txt", "b/z.txt"]
    assert items[0]["sha256"] == hashlib.sha256(b"a").hexdigest() and items[0]["size"] == 1


# --------------------------------------------------------------------------- stages

# Stand-ins for two analysis notebooks that can only finish together: each writes its marker,
# then waits for the other's. Run one after the other they would wait out the timeout.
MEETS = """\
import time
from analysis.paths import RunConfig
cfg = RunConfig.from_params(period, raw_dir, processed_dir, output_dir)
cfg.out.mkdir(parents=True, exist_ok=True)
(cfg.out / "{me}.started").write_text("{me}")
deadline = time.monotonic() + 60
while not (cfg.out / "{other}.started").exists():
    assert time.monotonic() < deadline, "{other} did not run at the same time"
    time.sleep(0.05)
"""
REPORT = """\
from analysis.paths import RunConfig
cfg = RunConfig.from_params(period, raw_dir, processed_dir, output_dir)
seen = sorted(p.name for p in cfg.out.glob("*.started"))
assert seen == ["a.started", "b.started"], seen
(cfg.out / "report.txt").write_text("ok")
"""


def test_notebook_stages_from_their_numbers():
    names = ["10_clean", "15_check", "20_coverage", "30_scale", "89_x", "90_report", "95_pdf"]
    assert [batch.notebook_stage(n + ".ipynb") for n in names] == [0, 0, 1, 1, 1, 2, 2]
    paths = [Path(n + ".ipynb") for n in names]
    assert batch.notebook_stages(paths) == [[0, 1], [2, 3, 4], [5, 6]]
    assert batch.notebook_stages([Path("20_a.ipynb"), Path("90_b.ipynb")]) == [[0], [1]]


@pytest.fixture(scope="module")
def staged(project, tmp_path_factory):
    nbs = tmp_path_factory.mktemp("staged") / "notebooks"
    nbs.mkdir()
    write_notebook(nbs / "10_clean.ipynb", CLEAN)
    write_notebook(nbs / "20_a.ipynb", MEETS.format(me="a", other="b"))
    write_notebook(nbs / "30_b.ipynb", MEETS.format(me="b", other="a"))
    write_notebook(nbs / "90_report.ipynb", REPORT)
    return nbs


def test_analysis_notebooks_of_a_stage_run_side_by_side(project, staged, tmp_path, capsys):
    cfg = batch.make_config(
        project / "raw", tmp_path / "processed", tmp_path / "outputs", staged, notebook_jobs=2
    )
    result = batch.run_period(P1, cfg)
    assert result.ok, result.message
    assert [n.name for n in result.notebooks] == [
        "10_clean.ipynb",
        "20_a.ipynb",
        "30_b.ipynb",
        "90_report.ipynb",
    ]
    period_dir = tmp_path / "outputs" / P1
    assert (period_dir / "report.txt").read_text() == "ok"  # 90 ran after both
    data = read_manifest(period_dir)
    assert list(data["timings"]["notebooks"]) == [n.name for n in result.notebooks]
    printed = capsys.readouterr().out
    assert printed.index("20_a.ipynb") < printed.index("30_b.ipynb") < printed.index("90_report")


def test_a_failing_notebook_of_a_stage_fails_the_period_after_the_other(project, tmp_path, capsys):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    write_notebook(nbs / "10_clean.ipynb", CLEAN)
    write_notebook(nbs / "20_a.ipynb", "x = 1", BOOM)
    slow_ok = "import time\ntime.sleep(1)\nprint('30 xong')"
    write_notebook(nbs / "30_b.ipynb", slow_ok)
    write_notebook(nbs / "90_report.ipynb", "raise SystemExit('90 must not run')")
    cfg = batch.make_config(
        project / "raw", tmp_path / "processed", tmp_path / "outputs", nbs, notebook_jobs=2
    )
    result = batch.run_period(P2, cfg)
    assert not result.ok
    assert "notebook 20_a.ipynb" in result.message and "Cột Chữ ký số bị thiếu" in result.message
    assert [(n.name, n.ok) for n in result.notebooks] == [
        ("10_clean.ipynb", True),
        ("20_a.ipynb", False),
        ("30_b.ipynb", True),  # the other notebook of the stage was let finish
    ]
    outputs = tmp_path / "outputs"
    assert sorted(p.name for p in outputs.iterdir()) == ["_failed"]  # nothing swapped in
    assert [p.name for p in (outputs / "_failed" / P2).iterdir()] == ["20_a.ipynb"]
    assert "90_report" not in capsys.readouterr().out


JOBS_SEEN = """\
import os
from analysis.paths import RunConfig
cfg = RunConfig.from_params(period, raw_dir, processed_dir, output_dir)
cfg.processed.mkdir(parents=True, exist_ok=True)
with open(cfg.processed / "jobs.txt", "a") as f:
    f.write(os.environ.get("ANALYSIS_JOBS", "-") + "\\n")
"""


@pytest.mark.parametrize(("notebook_jobs", "prewarm"), [(1, True), (3, True), (2, False)])
def test_kernels_get_the_periods_cores_as_analysis_jobs(
    project, tmp_path, monkeypatch, notebook_jobs, prewarm
):
    """The cleaning stage's processes (analysis.core.parallel) follow the batch's share of cores,
    in a kernel started ahead, a recycled one, or one started when due; not this process's
    own ANALYSIS_JOBS."""
    monkeypatch.setenv("ANALYSIS_JOBS", "7")
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    write_notebook(nbs / "10_clean.ipynb", CLEAN, JOBS_SEEN)
    write_notebook(nbs / "20_a.ipynb", JOBS_SEEN)
    cfg = batch.make_config(
        project / "raw",
        tmp_path / "processed",
        tmp_path / "outputs",
        nbs,
        notebook_jobs=notebook_jobs,
        prewarm=prewarm,
    )
    result = batch.run_period(P1, cfg)
    assert result.ok, result.message
    seen = (tmp_path / "processed" / P1 / "jobs.txt").read_text().split()
    assert seen == [str(notebook_jobs)] * 2


PID_SEEN = """\
import os
from pathlib import Path
with open(Path(processed_dir) / "pids.txt", "a") as f:
    f.write(f"{period} {os.getpid()}\\n")
"""


def test_periods_run_by_one_process_reuse_its_kernels(project, tmp_path):
    """Two periods in one process: the second period's notebooks run in the kernels the first
    left (reset: nothing of the first period's namespace, counts from 1), the executed
    notebooks are the same bytes as with a new kernel per notebook, and no kernel is left."""
    import os

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    # a module's warning is shown once per process: a recycled kernel must show it again
    (nbs / "warner.py").write_text(
        "import warnings\n\ndef go():\n    warnings.warn('cẩn thận', UserWarning)\n"
    )
    warn = "import warner\nwarner.go()"
    write_notebook(nbs / "10_clean.ipynb", CLEAN, PID_SEEN, NAMESPACE, warn)
    write_notebook(nbs / "20_metrics.ipynb", METRICS, PID_SEEN, NAMESPACE, warn)

    def run(name: str, **options) -> list[batch.PeriodResult]:
        cfg = batch.make_config(
            project / "raw", tmp_path / name / "processed", tmp_path / name / "outputs", nbs,
            **options,
        )  # fmt: skip
        return batch.run_periods([P1, P2], cfg, jobs=1, notebook_jobs=1)

    results = run("kept")
    assert all(r.ok for r in results), [r.message for r in results]
    seen = [
        line.split()
        for line in (tmp_path / "kept/processed/pids.txt").read_text().split("\n")
        if line
    ]
    pids = {period: {pid for p, pid in seen if p == period} for period in (P1, P2)}
    assert pids[P1] & pids[P2]  # the second period ran in a kernel of the first
    assert kernels._IDLE_KERNELS == []
    for pid in pids[P1] | pids[P2]:  # every kernel was stopped at the end
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)

    cold = run("cold", prewarm=False)
    assert all(r.ok for r in cold)
    for period in (P1, P2):
        for name in ("10_clean.ipynb", "20_metrics.ipynb"):
            kept = (tmp_path / "kept/outputs" / period / "notebooks" / name).read_text()
            new = (tmp_path / "cold/outputs" / period / "notebooks" / name).read_text()
            assert kept.replace("/kept/", "/cold/") == new
            assert '"execution_count": 1' in kept and "cẩn thận" in kept


def test_a_cells_stdout_is_one_output_whatever_the_flush_timing(project, tmp_path):
    """Text written across a kernel flush (0,2 s apart) arrives as two stream messages; the
    executed notebook holds one stdout output, so its bytes do not depend on timing."""
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    split = (
        "import sys, time\nsys.stdout.write('a')\nsys.stdout.flush()\ntime.sleep(0.5)\nprint('b')"
    )
    write_notebook(nbs / "10_clean.ipynb", CLEAN, split)
    cfg = batch.make_config(
        project / "raw", tmp_path / "processed", tmp_path / "outputs", nbs, notebook_jobs=1
    )
    result = batch.run_period(P1, cfg)
    assert result.ok, result.message
    nb = nbformat.read(tmp_path / "outputs" / P1 / "notebooks" / "10_clean.ipynb", as_version=4)
    outputs = nb.cells[-1].outputs
    assert [(o.output_type, o.name, o.text) for o in outputs] == [("stream", "stdout", "ab\n")]
