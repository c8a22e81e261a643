"""Smoke test of the scale benchmark's helpers at a tiny size (no timing assertions)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis import paths

SIZE = 2_000


def _load_bench():
    path = paths.ROOT / "benchmarks" / "bench_scale.py"
    spec = importlib.util.spec_from_file_location("bench_scale", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scale"] = module
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    """A 2.000-row synthetic CSV set, generated and cleaned in child processes."""
    work = tmp_path_factory.mktemp("bench")
    info = bench.generate(SIZE, work / "raw")
    job = {
        "job": "clean",
        "period": info["period"],
        "raw": str(work / "raw"),
        "processed": str(work / "processed"),
    }
    result = bench.run_child(job)
    return info, result, work / "processed" / info["period"]


def test_generated_files_match_what_write_large_reports(cleaned):
    info, _, _ = cleaned
    raw = Path(cleaned[2]).parents[1] / "raw"
    staff = [f for f in info["files"] if f["kind"] == "cbgvnv"]
    assert sum(f["rows"] for f in staff) == SIZE
    for f in info["files"]:
        lines = (raw / f["file"]).read_bytes().count(b"\n")
        assert lines == f["rows"] + 1  # one header line
    assert info["bytes"] == sum((raw / f["file"]).stat().st_size for f in info["files"])


def test_cleaned_totals_equal_rows_written(cleaned):
    info, result, processed = cleaned
    assert bench.check_accounting(info, result) == []
    staff = pd.read_parquet(processed / "staff.parquet")
    schools = pd.read_parquet(processed / "schools.parquet")
    quarantine = pd.read_csv(processed / "quarantine.csv", dtype=str, keep_default_na=False)
    written = {k: sum(f["rows"] for f in info["files"] if f["kind"] == k) for k in ("cbgvnv",)}
    n_staff_q = int((quarantine["kind"] == "cbgvnv").sum()) if len(quarantine) else 0
    assert len(staff) + n_staff_q + result["duplicates_removed"] == written["cbgvnv"]
    assert len(schools) == info["n_schools"]
    assert result["tables"]["staff"] == len(staff)
    assert staff["person_key"].is_unique
    # nothing personal in the processed staff table
    assert not {"full_name", "birth_date", "id_number", "phone", "email"} & set(staff.columns)
    quality = json.loads((processed / "quality.json").read_text(encoding="utf-8"))
    assert bench.cleaned_totals(quality) == {
        k: result[k] for k in ("inputs", "tables", "quarantined", "duplicates_removed")
    }
    assert 0 < result["peak_mb"] < 4096
    assert result["wall_s"] > 0


def test_accounting_check_reports_a_lost_row(cleaned):
    info, result, _ = cleaned
    broken = json.loads(json.dumps(result))
    broken["inputs"]["cbgvnv"]["kept"] -= 1
    problems = bench.check_accounting(info, broken)
    assert any(p.startswith("cbgvnv:") for p in problems)
    assert any(p.startswith("staff:") for p in problems)


def test_xlsx_readers_agree(tmp_path):
    info = bench.generate(300, tmp_path, fmt="xlsx")
    staff = next(f for f in info["files"] if f["kind"] == "cbgvnv")
    path = str(tmp_path / staff["file"])
    cal = bench.run_child({"job": "calamine", "path": path})
    opx = bench.run_child({"job": "openpyxl", "path": path})
    assert cal["rows"] == opx["rows"] == staff["rows"] + 1
    assert cal["cells"] == opx["cells"]


def test_peak_memory_of_a_child_is_its_own(tmp_path):
    """A child's peak is measured from its own start, not inherited from a big parent."""
    big = bytearray(300 * 1024 * 1024)  # 300 MB in this (parent) process
    big[::4096] = b"x" * len(big[::4096])
    out = bench.run_child({"job": "calamine", "path": _tiny_xlsx(tmp_path)})
    del big
    assert out["peak_mb"] < 200


def _tiny_xlsx(folder: Path) -> str:
    path = folder / "tiny.xlsx"
    pd.DataFrame({"Mã trường": ["001", "002"], "Số lớp": [3, 4]}).to_excel(path, index=False)
    return str(path)


def test_linearity_pairs_and_verdicts():
    rows = [
        {"size": 10_000, "wall_s": 2.0},
        {"size": 100_000, "wall_s": 8.0},
        {"size": 166_000, "wall_s": 12.0},
        {"size": 1_660_000, "wall_s": 150.0},
    ]
    pairs = bench.linearity(rows)
    target = {(p["small"], p["large"]): p for p in pairs if p["target"]}
    assert set(target) == {(10_000, 100_000), (166_000, 1_660_000)}
    assert target[(10_000, 100_000)]["time_ratio"] == pytest.approx(4.0)
    assert target[(166_000, 1_660_000)]["time_ratio"] == pytest.approx(12.5)
    info = [p for p in pairs if not p["target"]]
    assert [(p["small"], p["large"]) for p in info] == [(100_000, 166_000)]
    results = {
        "clean": [r | {"peak_mb": 3000.0, "rows_in": r["size"]} for r in rows],
        "linearity": pairs,
        "xlsx": {
            "rows": 100_000,
            "speedup": 2.5,
            "calamine": {"rows": 100_001, "wall_s": 2.0, "peak_mb": 1.0},
            "openpyxl": {"rows": 100_001, "wall_s": 5.0, "peak_mb": 1.0},
        },
        "metrics": {
            "size": 1_660_000,
            "staff_rows": 1_660_000,
            "wall_s": 1.0,
            "load_s": 0.5,
            "peak_mb": 1.0,
        },
    }
    verdicts = bench.verdicts(results)
    ok = {v["target"]: v["ok"] for v in verdicts}
    assert len(verdicts) == 6
    assert [v["ok"] for v in verdicts] == [False, True, True, False, False, True]
    assert any("1.660.000" in t for t in ok)
    results |= {
        "verdicts": verdicts,
        "machine": bench.machine_info(),
        "repeat": 3,
        "generated": [],
    }
    text = bench.render_text(results)
    assert text.count("MISS") == 3 and text.count("PASS") == 3
    md = bench.render_markdown(results)
    assert "| làm sạch CSV | 1.660.000 | 1.660.000 | 150.00 | 3000 | 12.50x / 10x dòng |" in md


def test_main_rejects_bad_sizes(capsys):
    assert bench.main(["--sizes", "abc"]) == 2
    assert "--sizes" in capsys.readouterr().err


def test_main_writes_json_and_markdown(tmp_path, capsys):
    out = tmp_path / "results"
    code = bench.main(
        ["--sizes", "500,5000", "--repeat", "1", "--xlsx-rows", "0", "--out", str(out)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    data = json.loads((out / "bench_scale.json").read_text(encoding="utf-8"))
    assert [r["size"] for r in data["clean"]] == [500, 5000]
    assert [r["staff_rows"] for r in data["clean"]] == [500, 5000]
    assert data["linearity"][0]["target"] and data["linearity"][0]["rows_ratio"] == 10
    assert data["metrics"]["staff_rows"] == 5000  # metrics read the largest cleaned table
    assert data["metrics"]["tables"]["scale_by_level"] == 4  # three levels + total
    assert data["metrics"]["tables"]["coverage_by_level"] == 4
    assert "xlsx" not in data
    md = (out / "bench_scale.md").read_text(encoding="utf-8")
    assert "| làm sạch CSV | 5.000 | 5.000 |" in md
    assert "PASS" in printed or "MISS" in printed
    assert "tuyến tính 500 -> 5.000 dòng" in printed
    assert not list(tmp_path.glob("bench-scale-*"))  # the temporary data is gone
