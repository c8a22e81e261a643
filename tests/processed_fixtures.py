"""Small hand-made processed tables (the shape ``data/processed/<period>/`` has), for tests.

The numbers are chosen so every metric can be worked out by hand; the expected values are
spelled out in the comments and checked in ``tests/metrics/test_metrics.py``. Other test modules may
import ``make_processed`` / ``write_processed``.

Schools (7): one Mầm non (no signature data for the whole level), four Tiểu học, two THCS.

| code | level | ward | classes | pupils | signature data at 2024-04-19 |
|---|---|---|---|---|---|
| MN01 | Mầm non | Bồ Đề | 10 | 300 | none (the level has no data) |
| TH01 | Tiểu học | Bồ Đề | 20 | 700 | list: 10 active, 8 signed, 1 pending (+1 left) |
| TH02 | Tiểu học | Đức Giang | 15 | 500 | counts: 40 staff, 20 signed |
| TH03 | Tiểu học | Thạch Bàn | 12 | 400 | no data at all |
| TH04 | Tiểu học | Thạch Bàn | 10 | 300 | counts: 0 staff |
| CS01 | THCS | Gia Thụy | 18 | 650 | list: 5 active, 2 signed |
| CS02 | THCS | Ngọc Lâm | 16 | 600 | counts: 30 staff, 30 signed |
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd

from analysis import metrics
from analysis.core import schemas
from analysis.metrics import Processed

PERIOD = "2024-04-19"
PREVIOUS = "2024-03-22"
FIRST = "2024-02-23"


def metric_tables(processed: Processed, period: str = PERIOD) -> dict[str, pd.DataFrame]:
    """Every metric table of a period, as notebooks 20 and 30 make them."""
    return metrics.compute_coverage(processed, period) | metrics.compute_scale(processed)


def _source(df: pd.DataFrame, file: str) -> pd.DataFrame:
    return df.assign(
        source_file=f"{PERIOD}/{file}", source_sheet="Sheet1", source_row=range(2, len(df) + 2)
    )


def schools() -> pd.DataFrame:
    rows = [
        ("MN01", "Trường Mầm non Hoa Sen", "Mầm non", "Bồ Đề", 10, 300, None, None),
        ("TH01", "Trường Tiểu học Ái Mộ A", "Tiểu học", "Bồ Đề", 20, 700, 700, 690),
        ("TH02", "Trường Tiểu học Ái Mộ B", "Tiểu học", "Đức Giang", 15, 500, 500, 500),
        ("TH03", "Trường Tiểu học Thạch Bàn A", "Tiểu học", "Thạch Bàn", 12, 400, 400, 380),
        ("TH04", "Trường Tiểu học Thạch Bàn B", "Tiểu học", "Thạch Bàn", 10, 300, 300, 300),
        ("CS01", "Trường THCS Gia Thụy", "THCS", "Gia Thụy", 18, 650, 650, 640),
        ("CS02", "Trường THCS Ngọc Lâm", "THCS", "Ngọc Lâm", 16, 600, 600, 600),
    ]
    cols = ["school_code", "school_name", "level", "ward", "n_classes", "n_pupils"]
    df = pd.DataFrame(rows, columns=[*cols, "n_pupils_with_id", "n_pupils_verified"])
    df = df.assign(ownership="Công lập", district="Long Biên")
    return schemas.conform("schools", _source(df, "truong.xlsx"))


def staff() -> pd.DataFrame:
    """TH01: 11 rows (10 active), CS01: 5 rows. Expiry set for ``expiring`` (see comments)."""
    d = date.fromisoformat
    far = d("2026-01-01")
    rows = [
        # school, role, signed, pending, provider, expires_on, active
        ("TH01", "CBQL", True, False, "Viettel", d("2024-05-10"), True),  # window + days
        ("TH01", "CBQL", True, False, "Viettel", d("2024-05-10"), True),  # window + days
        ("TH01", "GV", True, False, "Viettel", d("2024-07-10"), True),  # days only
        ("TH01", "GV", True, False, "Viettel", d("2024-03-01"), True),  # expired: both
        ("TH01", "GV", True, False, "Viettel", far, True),
        ("TH01", "GV", True, False, "VNPT", far, True),
        ("TH01", "GV", True, False, None, None, True),  # no expiry known
        ("TH01", "GV", False, True, None, None, True),  # pending
        ("TH01", "NV", True, False, "Viettel", far, True),
        ("TH01", "NV", False, False, None, None, True),
        ("TH01", "GV", True, False, "FPT", d("2024-05-01"), False),  # left: not counted
        ("CS01", "CBQL", True, False, "VNPT", d("2024-06-30"), True),  # window + days
        ("CS01", "GV", True, False, "VNPT", far, True),
        ("CS01", "GV", False, False, None, None, True),
        ("CS01", "GV", False, False, None, None, True),
        ("CS01", "NV", False, False, None, None, True),
    ]
    cols = ["school_code", "role", "signed", "pending", "provider", "expires_on", "active"]
    df = pd.DataFrame(rows, columns=cols)
    df["person_key"] = [f"{i:016x}" for i in range(len(df))]
    df["level"] = df["school_code"].map({"TH01": "Tiểu học", "CS01": "THCS"})
    df["position"] = df["role"].map({"CBQL": "Hiệu trưởng", "GV": "Giáo viên", "NV": "Kế toán"})
    df["expires_on"] = pd.to_datetime(df["expires_on"])
    df["issued_on"] = pd.Series(pd.Timestamp("2023-01-01"), index=df.index).where(
        df["expires_on"].notna()
    )
    df["status"] = df["active"].map({True: "Đang làm việc", False: "Chuyển đi"})
    return schemas.conform("staff", _source(df, "cbgvnv.xlsx"))


def signature_counts() -> pd.DataFrame:
    rows = [("TH02", "Tiểu học", 40, 20), ("TH04", "Tiểu học", 0, 0), ("CS02", "THCS", 30, 30)]
    df = pd.DataFrame(rows, columns=["school_code", "level", "n_staff", "n_signed"])
    df = df.assign(rate_reported=(df["n_signed"] / df["n_staff"].where(df["n_staff"] > 0)) * 100)
    df["superseded"] = False
    return schemas.conform("signature_counts", _source(df, "tonghop.xlsx"))


def signature_by_school() -> pd.DataFrame:
    rows = [
        ("TH01", "Tiểu học", 10, 8, 1, "list"),
        ("TH02", "Tiểu học", 40, 20, 0, "counts"),
        ("TH04", "Tiểu học", 0, 0, 0, "counts"),
        ("CS01", "THCS", 5, 2, 0, "list"),
        ("CS02", "THCS", 30, 30, 0, "counts"),
    ]
    cols = ["school_code", "level", "n_staff", "n_signed", "n_pending", "basis"]
    return schemas.conform("signature_by_school", pd.DataFrame(rows, columns=cols))


def history() -> pd.DataFrame:
    """Three periods; CS02 and TH04 are missing before the current one."""
    rows = [
        (FIRST, "TH01", "Tiểu học", 10, 4, "list"),
        (FIRST, "TH02", "Tiểu học", 40, 10, "counts"),
        (FIRST, "CS01", "THCS", 5, 1, "list"),
        (PREVIOUS, "TH01", "Tiểu học", 10, 6, "list"),
        (PREVIOUS, "TH02", "Tiểu học", 40, 15, "counts"),
        (PREVIOUS, "CS01", "THCS", 5, 1, "list"),
    ]
    cols = ["period", "school_code", "level", "n_staff", "n_signed", "basis"]
    now = signature_by_school().drop(columns="n_pending").assign(period=PERIOD)
    df = pd.concat([pd.DataFrame(rows, columns=cols), now[cols]], ignore_index=True)
    return schemas.conform("history", df)


def infrastructure() -> pd.DataFrame:
    rows = [
        ("TH01", "Tiểu học", 2, 100.0, 10),  # fine: 10/700 pupils
        ("TH02", "Tiểu học", 1, 50.0, 5),  # below 70 Mbps
        ("CS01", "THCS", 0, None, None),  # no fibre: below
    ]
    cols = ["school_code", "level", "n_fibre", "speed_mbps", "n_computers"]
    return schemas.conform("infrastructure", _source(pd.DataFrame(rows, columns=cols), "ht.xlsx"))


def records() -> pd.DataFrame:
    rows = [
        ("TH01", "Tiểu học", 1, "1A", 35, 35, 30),
        ("TH01", "Tiểu học", 1, "1B", 35, 30, 20),
        ("TH01", "Tiểu học", 2, "2A", 30, 10, 0),
        ("TH02", "Tiểu học", 1, "1A", 40, 40, 40),
    ]
    cols = ["school_code", "level", "grade", "class_name", "n_pupils"]
    cols += ["n_signed_teacher", "n_signed_principal"]
    return schemas.conform("records", _source(pd.DataFrame(rows, columns=cols), "hocba.xlsx"))


def make_processed(sample: bool = True) -> Processed:
    return Processed(
        schools=schools(),
        staff=staff(),
        signature_counts=signature_counts(),
        signature_by_school=signature_by_school(),
        history=history(),
        infrastructure=infrastructure(),
        records=records(),
        quality={"period": PERIOD, "sample": sample},
    )


def write_processed(dest: Path, skip: tuple[str, ...] = ()) -> Path:
    """Write ``dest/<kind>.parquet`` + ``quality.json``; the ``skip`` kinds are left absent."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    p = make_processed()
    for kind in schemas.FILES:
        if kind not in skip:
            getattr(p, kind).to_parquet(dest / f"{kind}.parquet", index=False)
    (dest / "quality.json").write_text(json.dumps(p.quality, ensure_ascii=False), "utf-8")
    return dest


# --------------------------------------------------------------------------- three districts

#: The same seven schools spread over three districts (and CS01 moved to a ward named like
#: TH02's, in another district), for the city/national tables. Worked out by hand:
#:
#: | district | schools | reporting | staff | signed | coverage |
#: |---|---|---|---|---|---|
#: | Huyện Gia Lâm | TH02, TH03, CS02 | TH02, CS02 | 40 + 30 = 70 | 20 + 30 = 50 | 5/7 |
#: | Quận Hoàn Kiếm | TH04, CS01 | TH04, CS01 | 0 + 5 = 5 | 0 + 2 = 2 | 0.4 |
#: | Quận Long Biên | MN01, TH01 | TH01 | 10 | 8 | 0.8 |
#: | Tổng cộng | 7 | 5 | 85 | 60 | 12/17 |
DISTRICTS = {
    "MN01": "Quận Long Biên",
    "TH01": "Quận Long Biên",
    "TH02": "Huyện Gia Lâm",
    "TH03": "Huyện Gia Lâm",
    "TH04": "Quận Hoàn Kiếm",
    "CS01": "Quận Hoàn Kiếm",
    "CS02": "Huyện Gia Lâm",
}


def make_multi_district(sample: bool = True) -> Processed:
    p = make_processed(sample)
    schools_ = p.schools.copy()
    schools_["district"] = schools_["school_code"].map(DISTRICTS).astype("str")
    schools_.loc[schools_["school_code"] == "CS01", "ward"] = "Đức Giang"
    p.schools = schemas.conform("schools", schools_)
    return p
