"""Property-based tests of the cleaning stage: messy staff tables written as real CSV/xlsx.

Whatever the rows hold, cleaning never crashes (only IngestError/CleanError for wholly unusable
input), every sheet balances (rows read = kept + quarantined + non-data), every data row ends
up exactly once (kept person, dropped duplicate or quarantined), nobody is counted twice, and no
personal value reaches any output file.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import clean
from analysis.ingest import IngestError

KEY = b"property-test-key"
PERIOD = "2024-03-01"
SCHOOLS = [
    ("01020301", "Trường Tiểu học Thạch Bàn A", "Tiểu học", 20, 700),
    ("01020302", "Trường Tiểu học Thạch Bàn B", "Tiểu học", 15, 500),
    ("01030305", "Trường THCS Ngọc Lâm", "THCS", 16, 600),
]
HEADER = [
    "Mã định danh",
    "Họ và tên",
    "Ngày sinh",
    "Số CCCD",
    "Số điện thoại",
    "Email",
    "Chức vụ",
    "Tên trường",
    "Trạng thái CB",
    "Chữ ký số",
    "Ngày cấp",
    "Ngày hết hạn",
]

ids = st.one_of(
    st.sampled_from([f"79{i:08d}" for i in range(12)]),  # a small pool: duplicates are common
    st.sampled_from([None, "", "  "]),
)
positions = st.sampled_from(["Giáo viên", "Hiệu trưởng", "Nhân viên", "Kế toán", "Thợ lặn", None])
schools = st.sampled_from(
    ["TH Thạch Bàn A", "Trường Tiểu học Thạch Bàn B", "Thạch Bàn", "THCS Ngọc Lâm", "Trường XYZ"]
)
statuses = st.sampled_from(["Đã cấp", "Chưa cấp", "x", "", None, "Đang chờ", "Kiểm tra lại", 1])
employment = st.sampled_from(["Đang làm việc", None, "Nghỉ hưu", "Chuyển đi"])
dates = st.one_of(
    st.dates(min_value=date(2019, 1, 1), max_value=date(2029, 12, 31)).map(
        lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}"
    ),
    st.sampled_from([None, "31/02/2024", "không rõ", 45300]),
)
person = st.fixed_dictionaries(
    {
        "id": ids,
        "position": positions,
        "school": schools,
        "employment": employment,
        "status": statuses,
        "issued": dates,
        "expires": dates,
    }
)
row = st.one_of(
    person,
    person,
    person,
    st.just("blank"),
    st.just("total"),
)


def _cells(kind_row, n: int) -> list:
    if kind_row == "blank":
        return [None] * len(HEADER)
    if kind_row == "total":
        return [None, "Tổng cộng"] + [None] * (len(HEADER) - 2)
    r = kind_row
    # Personal values: distinctive per row so a leak is unmistakable.
    return [
        r["id"],
        f"Họ Tên Riêng Tư {n:04d}",
        f"{(n % 28) + 1:02d}/07/1911",
        f"0999{n:08d}",
        f"0388{n:06d}",
        f"bimat{n:04d}@truong.vn",
        r["position"],
        r["school"],
        r["employment"],
        r["status"],
        r["issued"],
        r["expires"],
    ]


def personal_values(n_rows: int) -> list[str]:
    out = []
    for n in range(n_rows):
        out += [
            f"Họ Tên Riêng Tư {n:04d}",
            f"0999{n:08d}",
            f"0388{n:06d}",
            f"bimat{n:04d}@truong.vn",
        ]
        out.append(f"{(n % 28) + 1:02d}/07/1911")
    return out


def write_raw(root: Path, rows: list, fmt: str) -> Path:
    raw = root / "raw"
    folder = raw / PERIOD
    folder.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(folder / "truong.xlsx"))
    ws = wb.add_worksheet("DS")
    head = ["Mã trường", "Tên trường", "Cấp học", "Số lớp", "Số học sinh"]
    for c, v in enumerate(head):
        ws.write(0, c, v)
    for r, values in enumerate(SCHOOLS, 1):
        for c, v in enumerate(values):
            ws.write(r, c, v)
    wb.close()
    grid = [["DANH SÁCH CÁN BỘ"], HEADER] + [_cells(r, n) for n, r in enumerate(rows)]
    if fmt == "csv":
        with open(folder / "cbgvnv.csv", "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            for line in grid:
                w.writerow(["" if v is None else v for v in line])
    else:
        wb = xlsxwriter.Workbook(str(folder / "cbgvnv.xlsx"))
        ws = wb.add_worksheet("CB")
        for r, line in enumerate(grid):
            for c, v in enumerate(line):
                if v is not None:
                    ws.write(r, c, v)
        wb.close()
    return raw


OUTCOMES: list[str] = []


def output_text(folder: Path) -> str:
    parts = []
    for p in sorted(folder.rglob("*")):
        if p.suffix == ".parquet":
            parts.append(pd.read_parquet(p).astype(str).to_csv())
        elif p.suffix in {".csv", ".json"}:
            parts.append(p.read_text(encoding="utf-8-sig"))
    return "\n".join(parts)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(row, min_size=0, max_size=25), fmt=st.sampled_from(["csv", "xlsx"]))
def test_messy_staff_tables(tmp_path_factory, rows, fmt):
    root = tmp_path_factory.mktemp("prop")
    raw = write_raw(root, rows, fmt)
    try:
        result = clean.clean_period(PERIOD, raw, root / "out", key=KEY)
    except (IngestError, clean.CleanError) as exc:
        assert str(exc)  # a message for the user; only for wholly unusable input
        OUTCOMES.append("error")
        assert not (root / "out" / PERIOD).exists()
        return
    OUTCOMES.append("cleaned")
    quality = json.loads((root / "out" / PERIOD / "quality.json").read_text(encoding="utf-8"))
    for i in quality["inputs"]:
        assert i["rows_read"] == i["kept"] + i["quarantined"] + sum(i["non_data"].values()), i
    staff = result.tables["staff"]
    # Nobody counted twice.
    assert staff["person_key"].is_unique
    sbs = result.tables["signature_by_school"]
    assert int(sbs["n_staff"].sum()) == int(staff["active"].sum())
    assert int(sbs["n_signed"].sum()) == int((staff["active"] & staff["signed"]).sum())
    # Every staff data row exactly once: kept, dropped as a duplicate, or quarantined.
    sheet_in = [i for i in quality["inputs"] if i["kind"] == "cbgvnv"]
    if sheet_in:
        q = result.quarantine[result.quarantine["kind"] == "cbgvnv"]
        kept_rows = list(staff["source_row"])
        dropped = [c["dropped_row"] for c in quality["duplicates"]["cases"]]
        all_rows = sorted(kept_rows + dropped + list(q["source_row"]))
        assert len(all_rows) == len(set(all_rows))
        assert len(all_rows) == sum(i["kept"] + i["quarantined"] for i in sheet_in)
        d = quality["duplicates"]
        assert d["rows_before"] == d["persons_after"] + d["rows_removed"]
        # Left staff are kept but never active.
        assert quality["left_staff"]["total"] == int((~staff["active"]).sum())
    blob = output_text(root / "out" / PERIOD)
    for value in personal_values(len(rows)):
        assert value not in blob, value
    for i in range(12):
        assert f"79{i:08d}" not in blob


def test_most_examples_were_cleaned():
    """Guard against a generator that only produces unusable input (runs after the above)."""
    if OUTCOMES:
        assert OUTCOMES.count("cleaned") >= len(OUTCOMES) // 2, OUTCOMES
