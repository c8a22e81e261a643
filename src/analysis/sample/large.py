"""Large synthetic data sets for benchmarks (never committed).

``write_large(out_dir, n_staff)`` writes, into ``out_dir/<period>/``, a school list of a whole
country's worth of districts (with a ``Quận/Huyện`` column) and staff lists of ``n_staff``
rows, split into a handful of CSV files (or ``.xlsx`` files of at most 1.000.000 rows a sheet).
Everything is vectorised with numpy and pandas (strings are built per unique value), so
1,66 million rows take seconds, not minutes, for CSV. A little mess is kept: Vietnamese
thousands as text in some counts, NFD text in some rows, dates as ``dd/mm/yyyy`` text.
"""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.core.vocab import MN, TH, THCS
from analysis.sample.world import (
    ACTIVE,
    DEFAULT_SEED,
    LEFT_STATUSES,
    LEVEL_PREFIX,
    POSITIONS,
    PROVIDERS,
    SIG_WORDS,
    personal,
)

LARGE_PERIOD = "2024-04-19"
STAFF_PER_SCHOOL = 30.7  # 1,66 million staff / 54.000 schools
SCHOOLS_PER_DISTRICT = 77
CSV_ROWS_PER_FILE = 400_000
XLSX_ROWS_PER_FILE = 1_000_000

_SYLLABLES = (
    "An",
    "Bình",
    "Hòa",
    "Phú",
    "Thạnh",
    "Đông",
    "Tây",
    "Nam",
    "Bắc",
    "Tân",
    "Long",
    "Phước",
    "Thuận",
    "Hưng",
    "Hải",
    "Sơn",
    "Lâm",
    "Quang",
    "Minh",
    "Đức",
    "Thanh",
    "Xuân",
    "Yên",
    "Vĩnh",
    "Châu",
    "Gia",
    "Kim",
    "Ngọc",
    "Hồng",
    "Trung",
    "Mỹ",
    "Lạc",
    "Thái",
    "Cẩm",
    "Định",
)
#: The positions drawn (those of :data:`POSITIONS` but "Thiết bị" and "Nhân viên").
_POSITIONS = np.array([p for p in POSITIONS if p not in ("Thiết bị", "Nhân viên")])
_POSITION_P = np.array([0.02, 0.04, 0.78, 0.02, 0.03, 0.03, 0.02, 0.03, 0.03])


def place_names(rng, n: int, parts: int) -> pd.Series:
    """Place-like names of ``parts`` syllables; repeats get a number ('Tân Hòa 2')."""
    syl = np.array(_SYLLABLES, dtype=object)
    out = pd.Series(rng.choice(syl, n), dtype="str")
    for _ in range(parts - 1):
        out = out + " " + pd.Series(rng.choice(syl, n), dtype="str")
    dup = out.groupby(out).cumcount()
    return out.where(dup == 0, out + " " + (dup + 1).astype(str))


NO_DATE = -(10**6)


def date_text(days: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 -> 'dd/mm/yyyy', formatted once per unique day (NO_DATE = none)."""
    uniq, inv = np.unique(days, return_inverse=True)
    valid = uniq != NO_DATE
    text = np.full(uniq.size, "", dtype=object)
    stamps = pd.to_datetime(uniq[valid], unit="D")
    text[valid] = stamps.strftime("%d/%m/%Y").to_numpy()
    return text[inv]


def _nfd_some(s: pd.Series, mask: np.ndarray) -> pd.Series:
    """``s`` with the rows of ``mask`` in NFD form (converted per unique value)."""
    sub = s[mask]
    table = {u: unicodedata.normalize("NFD", u) for u in pd.unique(sub)}
    out = s.astype(object).copy()
    out[mask] = sub.map(table).to_numpy()
    return out.astype("str")


def _schools(n_staff: int, rng) -> tuple[pd.DataFrame, int]:
    n_schools = max(3, round(n_staff / STAFF_PER_SCHOOL))
    n_districts = max(1, round(n_schools / SCHOOLS_PER_DISTRICT))
    district_names = ("Huyện " + place_names(rng, n_districts, 2)).to_numpy()
    district_names[: max(1, n_districts // 10)] = (
        "Quận " + place_names(rng, max(1, n_districts // 10), 2)
    ).to_numpy()
    dist = np.sort(rng.integers(0, n_districts, n_schools))
    dist[:n_districts] = np.arange(n_districts)
    dist = np.sort(dist)
    level = rng.choice(np.array([MN, TH, THCS]), n_schools, p=[0.45, 0.3, 0.25])
    level[:3] = [MN, TH, THCS]
    base = place_names(rng, n_schools, 2)
    # a name is unique within its district and level
    key = pd.Series(district_names[dist], dtype="str") + "|" + pd.Series(level) + "|" + base
    rep = key.groupby(key).cumcount()
    base = base.where(rep == 0, base + " " + (rep + 1).astype(str))
    codes = rng.choice(100_000_000, n_schools, replace=False)
    df = pd.DataFrame(
        {
            "Mã trường": pd.Series(codes).astype(str).str.zfill(8),
            "Tên trường": pd.Series(level).map(LEVEL_PREFIX) + " " + base,
            "Cấp học": level,
            "Loại hình": np.where(rng.random(n_schools) < 0.12, "Tư thục", "Công lập"),
            "Phường": ("Xã " + place_names(rng, n_schools, 2)).to_numpy(),
            "Quận/Huyện": district_names[dist],
        }
    )
    classes = np.select(
        [level == MN, level == TH],
        [rng.integers(6, 21, n_schools), rng.integers(10, 41, n_schools)],
        rng.integers(8, 36, n_schools),
    )
    size = np.select([level == MN, level == TH], [23, 36], 40)
    pupils = (classes * (size + rng.normal(0, 2, n_schools))).round().astype(np.int64)
    df["Số lớp"] = classes
    text = (pupils >= 1000) & (rng.random(n_schools) < 0.05)
    pupils_w = pd.Series(pupils).astype(str)
    pupils_w[text] = pd.Series(pupils[text]).map(lambda v: f"{v:,}".replace(",", ".")).to_numpy()
    df["Số học sinh"] = pupils_w
    df["Số HS có mã định danh"] = pupils - (rng.random(n_schools) < 0.1) * rng.integers(
        1, 9, n_schools
    )
    nfd = rng.random(n_schools) < 0.02
    df["Tên trường"] = _nfd_some(df["Tên trường"], nfd)
    return df, n_districts


def _staff(schools: pd.DataFrame, n_staff: int, rng) -> pd.DataFrame:
    with_staff = np.flatnonzero(schools["Cấp học"].to_numpy() != MN)
    weight = rng.gamma(8.0, 1.0, with_staff.size)
    school_idx = np.sort(rng.choice(with_staff, n_staff, p=weight / weight.sum()))
    position = rng.choice(_POSITIONS, n_staff, p=_POSITION_P)
    level = schools["Cấp học"].to_numpy()[school_idx]
    frame = pd.DataFrame({"level": level, "position": position})
    frame["role"] = frame["position"].map(POSITIONS)
    pers = personal(frame, rng)
    ids = rng.choice(9_000_000_000, n_staff, replace=False) + 1_000_000_000
    signed_p = rng.beta(6, 3, schools.shape[0])[school_idx]
    u = rng.random(n_staff)
    signed = u < signed_p
    pending = ~signed & (u < signed_p + 0.04)
    status = np.select([signed, pending], [SIG_WORDS["yes"], SIG_WORDS["pending"]], SIG_WORDS["no"])
    prov = np.where(
        level == TH,
        rng.choice(np.array(PROVIDERS), n_staff, p=[0.7, 0.15, 0.05, 0.04, 0.03, 0.03]),
        rng.choice(np.array(PROVIDERS), n_staff, p=[0.15, 0.7, 0.05, 0.04, 0.03, 0.03]),
    )
    epoch = np.datetime64("1970-01-01")
    start = (np.datetime64("2023-06-01") - epoch).astype(int)
    issued = start + rng.integers(0, 320, n_staff)
    expires = issued + rng.choice([365, 730, 1095], n_staff) - 1
    birth = (pers["birth_date"].to_numpy().astype("datetime64[D]") - epoch).astype(int)
    emp = np.where(
        rng.random(n_staff) < 0.985,
        ACTIVE,
        rng.choice(np.array(LEFT_STATUSES), n_staff),
    )
    nfd = rng.random(n_staff) < 0.01
    df = pd.DataFrame(
        {
            "Mã định danh": pd.Series(ids).astype(str),
            "Họ và tên": _nfd_some(pd.Series(pers["full_name"].to_numpy(), dtype="str"), nfd),
            "Ngày sinh": date_text(birth),
            "Số CCCD": pers["id_number"].to_numpy(),
            "Số điện thoại": pers["phone"].to_numpy(),
            "Email": pers["email"].to_numpy(),
            "Chức vụ": position,
            "Mã trường": schools["Mã trường"].to_numpy()[school_idx],
            "Tên trường": schools["Tên trường"].to_numpy()[school_idx],
            "Trạng thái CB": emp,
            "Chữ ký số": status,
            "Nhà cung cấp": np.where(signed | pending, prov, ""),
            "Ngày cấp": date_text(np.where(signed, issued, NO_DATE)),
            "Ngày hết hạn": date_text(np.where(signed, expires, NO_DATE)),
        }
    )
    return df


def write_large(
    out_dir: Path | str,
    n_staff: int,
    fmt: str = "csv",
    seed: int = DEFAULT_SEED,
    period: str = LARGE_PERIOD,
) -> dict:
    """Write a large synthetic set (school list + ``n_staff`` staff rows) into
    ``out_dir/<period>/``; return what was written: ``{"period", "fmt", "n_staff",
    "n_schools", "n_districts", "files": [{"file", "kind", "rows"}]}`` (paths relative to
    ``out_dir``)."""
    check_format(fmt)
    if n_staff <= 0:
        raise ValueError("Số dòng CBGVNV phải dương.")
    note = "DỮ LIỆU MẪU cỡ lớn (tổng hợp, để đo hiệu năng): không phải số liệu thật.\n"
    folder = bench_folder(out_dir, period, note)
    rng = np.random.default_rng([seed, 9])
    schools, n_districts = _schools(n_staff, rng)
    staff = _staff(schools, n_staff, rng)
    per_file = CSV_ROWS_PER_FILE if fmt == "csv" else XLSX_ROWS_PER_FILE
    n_parts = max(1, math.ceil(n_staff / per_file))
    bounds = np.linspace(0, n_staff, n_parts + 1).round().astype(int)
    w = TableFiles(folder, period, fmt, created=LARGE_PERIOD)
    w.put(schools, "DanhSachTruong_toan_quoc", "truong", "DanhSachTruong")
    for k in range(n_parts):
        part = staff.iloc[bounds[k] : bounds[k + 1]]
        w.put(part, f"CBGVNV_phan_{k + 1:02d}", "cbgvnv", "CBGVNV")
    return {
        "period": period,
        "fmt": fmt,
        "n_staff": int(n_staff),
        "n_schools": int(len(schools)),
        "n_districts": int(n_districts),
        "files": w.files,
    }


# ------------------------------------------------------------------------------------------
# writing the benchmark sets (also :mod:`analysis.sample.province`)


def check_format(fmt: str) -> None:
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"Định dạng '{fmt}' không hỗ trợ: chọn csv hoặc xlsx.")


def bench_folder(out_dir: Path | str, period: str, note: str) -> Path:
    """Create ``out_dir/<period>/`` and mark ``out_dir`` as sample data with ``note``."""
    out = Path(out_dir)
    folder = out / period
    folder.mkdir(parents=True, exist_ok=True)
    (out / paths.SAMPLE_MARK_FILE).write_text(note, encoding="utf-8")
    return folder


class TableFiles:
    """Writes tables as the CSV or xlsx files of one period folder, and lists them."""

    def __init__(self, folder: Path, period: str, fmt: str, created: str) -> None:
        self.folder, self.period, self.fmt, self.created = folder, period, fmt, created
        self.files: list[dict] = []

    def put(self, df: pd.DataFrame, stem: str, kind: str, sheet: str) -> None:
        name = f"{stem}.{self.fmt}"
        if self.fmt == "csv":
            to_csv(df, self.folder / name)
        else:
            plain_xlsx(df, self.folder / name, sheet, self.created)
        self.files.append({"file": f"{self.period}/{name}", "kind": kind, "rows": len(df)})


def to_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV through pyarrow's writer (fast); values are quoted only when they must be."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    table = pa.Table.from_pandas(df, preserve_index=False)
    header = (",".join(df.columns) + "\n").encode("utf-8")
    try:
        with open(path, "wb") as fh:
            fh.write(header)
            opts = pcsv.WriteOptions(include_header=False, quoting_style="none")
            pcsv.write_csv(table, fh, opts)
    except pa.ArrowInvalid:  # a value holds the delimiter or a quote: quote strings
        pcsv.write_csv(table, str(path), pcsv.WriteOptions(quoting_style="needed"))


def plain_xlsx(df: pd.DataFrame, path: Path, sheet: str, created: str) -> None:
    """One sheet: a header row and the values as they are (no value becomes a formula, a
    number or a link), the workbook dated ``created``."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
        },
    )
    wb.set_properties({"created": pd.Timestamp(f"{created} 08:00").to_pydatetime()})
    ws = wb.add_worksheet(sheet)
    ws.write_row(0, 0, list(df.columns))
    # xlsxwriter writes cell by cell (constant_memory needs row order): one call per row
    for r, values in enumerate(df.itertuples(index=False, name=None), start=1):
        ws.write_row(r, 0, values)
    wb.close()
