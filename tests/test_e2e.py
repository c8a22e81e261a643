"""End to end: the batch over the real notebooks and the sample data, for two periods.

Runs ``python -m analysis run`` (in process) into temporary processed and output folders with
the repository's data/raw, then checks the manifest, the artefacts, idempotence and the
failure path. Skipped while the notebooks or the sample data set are missing.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from analysis import batch, paths
from analysis.batch import manifest
from tests.batch.test_batch import comparable, read_manifest

batch.light_nbformat()  # nbformat without the slow rfc3987_syntax grammar (batch.kernels)
import nbformat  # noqa: E402

pytestmark = pytest.mark.slow

PERIODS = ("2024-04-19", "2024-06-24")
NOTEBOOKS = ("10_clean.ipynb", "20_coverage.ipynb", "30_scale_infrastructure.ipynb")
REPORT_NOTEBOOK = "90_report.ipynb"
FIGURES = ("coverage_by_school", "coverage_by_level", "scale_by_level")

_missing_notebooks = [
    n for n in (*NOTEBOOKS, REPORT_NOTEBOOK) if not (paths.NOTEBOOKS_DIR / n).is_file()
]
_missing_periods = [p for p in PERIODS if not (paths.RAW_DIR / p).is_dir()]
if _missing_notebooks or _missing_periods:
    pytestmark = [
        pytest.mark.slow,
        pytest.mark.skip(
            reason=f"not yet in the repository: notebooks {_missing_notebooks}, "
            f"sample periods {_missing_periods} (python -m analysis sample)"
        ),
    ]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(out: Path, *extra: str) -> int:
    return batch.main(
        [
            "--raw-dir",
            str(paths.RAW_DIR),
            "--processed-dir",
            str(out / "processed"),
            "--output-dir",
            str(out / "outputs"),
            *extra,
        ]
    )


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e")
    args = [a for p in PERIODS for a in ("--period", p)]
    code = run(out, *args, "--quiet")
    return code, out


def test_batch_succeeds_for_both_periods(e2e):
    code, out = e2e
    assert code == 0
    for period in PERIODS:
        assert (out / "outputs" / period / "manifest.json").is_file()
    assert not any(p.name.startswith(".") for p in (out / "outputs").iterdir())


def test_manifest_of_2024_04_19(e2e):
    _, out = e2e
    period = "2024-04-19"
    period_dir = out / "outputs" / period
    data = read_manifest(period_dir)
    # inputs: every raw file of the folders <= period, hashed
    files = {f["path"]: f for f in data["inputs"]["files"]}
    expected = sorted(
        p.relative_to(paths.RAW_DIR).as_posix()
        for folder in paths.list_periods(paths.RAW_DIR)
        if folder <= period
        for p in (paths.RAW_DIR / folder).rglob("*")
        if p.is_file()
    )
    assert sorted(k for k in files if "/" in k) == expected
    assert not any(k.startswith("2024-06-24/") for k in files)
    for rel, item in files.items():
        assert item["sha256"] == sha(paths.RAW_DIR / rel)
    served = data["inputs"]["served"]
    assert served["truong"] == "2023-12-15"  # the school list is carried forward
    assert served["ha_tang"] == period
    # artefacts: every file but the manifest, hashes that match
    artefacts = {a["path"]: a for a in data["artefacts"]}
    on_disk = {p.relative_to(period_dir).as_posix() for p in period_dir.rglob("*") if p.is_file()}
    assert set(artefacts) == on_disk - {"manifest.json"}
    for rel, item in artefacts.items():
        assert item["sha256"] == sha(period_dir / rel)
    # headline numbers of the published report
    headline = data["headline"]
    assert headline["signed_th"] == 1248
    assert headline["staff_th"] == 1787
    assert headline["schools_total"] == 142
    assert data["accounting"] is not None
    assert data["code"]["commit"] is None or len(data["code"]["commit"]) == 40
    assert set(data["timings"]["notebooks"]) == {*NOTEBOOKS, REPORT_NOTEBOOK}


def test_2024_06_24_report_settings_carry_forward(e2e):
    """2024-06-24 has no bao_cao.toml: the wording of 19/4/2024 serves, and the manifest says
    so; the document holds no placeholder and is not a draft."""
    _, out = e2e
    data = read_manifest(out / "outputs" / "2024-06-24")
    settings = data["report_settings"]
    assert not settings["draft"] and settings["missing"] == []
    assert settings["groups"]["công tác chỉ đạo"] == "2024-04-19/bao_cao.toml"
    assert settings["groups"]["người ký"] == "2024-04-19/bao_cao.toml"
    line = manifest.report_settings_line(out / "outputs" / "2024-06-24")
    assert line.startswith("lời văn từ 2024-04-19/bao_cao.toml (kỳ trước): ")


@pytest.mark.parametrize("period", PERIODS)
def test_artefacts_exist(e2e, period):
    _, out = e2e
    period_dir = out / "outputs" / period
    assert (period_dir / f"bao_cao_{period}.docx").stat().st_size > 0
    assert (period_dir / f"bang_bieu_{period}.xlsx").stat().st_size > 0
    for name in FIGURES:
        assert (period_dir / "figures" / f"{name}.png").is_file()
        assert (period_dir / "figures" / f"{name}.svg").is_file()
    assert (period_dir / "tables" / "headline.json").is_file()
    for name in (*NOTEBOOKS, REPORT_NOTEBOOK):
        nb = nbformat.read(period_dir / "notebooks" / name, as_version=4)
        assert not any(
            o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", [])
        )


def test_rerun_gives_identical_artefacts(e2e):
    _, out = e2e
    period = "2024-04-19"
    first = read_manifest(out / "outputs" / period)
    assert run(out, "--period", period, "--quiet") == 0
    second = read_manifest(out / "outputs" / period)
    assert second["artefacts"] == first["artefacts"]
    assert comparable(second) == comparable(first)


def test_failure_keeps_previous_outputs(e2e, tmp_path, capfd):
    _, out = e2e
    period = "2024-06-24"
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    shutil.copy(paths.NOTEBOOKS_DIR / "10_clean.ipynb", notebooks)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = (
        'period = ""  # kỳ\nraw_dir = ""  # thô\nprocessed_dir = ""  # sạch\noutput_dir = ""  # kq'
    )
    nb.cells = [
        nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell('raise RuntimeError("hỏng có chủ ý")'),
    ]
    nbformat.write(nb, notebooks / "15_boom.ipynb")
    before = {
        p.relative_to(out / "outputs" / period).as_posix(): p.read_bytes()
        for p in (out / "outputs" / period).rglob("*")
        if p.is_file()
    }
    code = run(out, "--period", period, "--notebooks-dir", str(notebooks), "--quiet")
    err = capfd.readouterr().err
    assert code == 1
    after = {
        p.relative_to(out / "outputs" / period).as_posix(): p.read_bytes()
        for p in (out / "outputs" / period).rglob("*")
        if p.is_file()
    }
    assert after == before
    assert "15_boom.ipynb" in err and "In [3]" in err and "RuntimeError: hỏng có chủ ý" in err
    assert (out / "outputs" / "_failed" / period / "15_boom.ipynb").is_file()


def _artefact_text(path: Path) -> str:
    """The text a person or a program could read from one artefact."""
    import zipfile

    import pandas as pd

    if path.suffix in {".docx", ".xlsx"}:
        with zipfile.ZipFile(path) as zf:
            return "\n".join(
                zf.read(n).decode("utf-8", "replace") for n in zf.namelist() if n.endswith(".xml")
            )
    if path.suffix == ".parquet":
        return pd.read_parquet(path).astype(str).to_csv()
    if path.suffix in {".csv", ".json", ".ipynb", ".svg", ".md", ".txt"}:
        return path.read_text(encoding="utf-8-sig")
    return ""


def test_no_personal_value_in_any_artefact(e2e):
    """The planted names, CCCD, phone numbers and e-mails of the sample appear nowhere:
    not in processed tables, the report, the workbook, tables, figures or executed notebooks."""
    import json

    _, out = e2e
    planted = json.loads((paths.DATA_DIR / "sample_planted.json").read_text(encoding="utf-8"))
    values = planted["personal_values"]
    files = [p for p in sorted(out.rglob("*")) if p.is_file()]
    scanned = [p for p in files if p.suffix in {".docx", ".xlsx", ".parquet", ".ipynb", ".csv"}]
    assert len(scanned) > 40  # the check looked at real artefacts
    blob = "\n".join(_artefact_text(p) for p in files)
    assert "Tiểu học" in blob and "1248" in blob  # readable text was extracted
    for field in ("full_name", "id_number", "phone", "email"):
        assert values[field], field
        leaked = [v for v in values[field] if v in blob]
        assert not leaked, f"{field}: {leaked[:3]}"
