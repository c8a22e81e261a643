"""The deterministic sample data set: ``python -m analysis sample``.

Builds the synthetic district of :mod:`analysis.sample_world` (Long Biên, 2023-2024) from a
seed and renders it into the messy raw exports a district office receives, one folder a
reporting period under ``data/raw/``, plus ``data/raw/school_aliases.csv``,
``data/raw/DU_LIEU_MAU.txt`` and ``data/sample_planted.json`` (what was planted where, and the
totals a correct cleaning must find). Same seed, same files: no clock, one seeded generator.

``python -m analysis sample --large N --out DIR [--format csv|xlsx]`` writes a large synthetic
set instead (benchmarks, never committed): see :func:`analysis.sample_large.write_large`.
``python -m analysis sample --province DIR [--format xlsx|csv]`` writes a synthetic Hà Nội-size
province after the reform (benchmarks, never committed, never into ``data/``): see
:func:`analysis.sample_province.write_province`. The school year 2025-2026 (the periods after
1/7/2025, :mod:`analysis.sample_reform`) is part of the sample; ``--no-reform`` leaves it out.

Options: ``--out DIR`` (default ``data/raw``), ``--seed N`` (default :data:`DEFAULT_SEED`),
``--planted PATH`` (default ``<out>/../sample_planted.json``). The generator overwrites only
the files it writes and never deletes anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.sample.large import write_large
from analysis.sample.province import write_province
from analysis.sample.reform import write_reform
from analysis.sample.world import (
    LEVELS,
    MN,
    NEVER,
    PERIOD_DATES,
    PERIODS,
    POSITIONS,
    PROVIDERS,
    REF,
    TH,
    THCS,
    World,
    build_world,
    excel_serial,
    status_at,
)
from analysis.sample.xlsx import (
    Col,
    SheetSpec,
    new_workbook,
    write_csv,
    write_lookup_sheet,
    write_sheet,
)

DEFAULT_SEED = 20240419
ALIASES_FILE = "school_aliases.csv"
PLANTED_FILE = "sample_planted.json"

# Schools with a special role in the rendering (level, short name).
TCVN3_SCHOOL = (TH, "Thạch Bàn B")
VNI_SCHOOL = (TH, "Đoàn Khuê")
CP1258_SCHOOL = (TH, "Vũ Xuân Thiều")
BOM_SCHOOL = (THCS, "Ngọc Lâm")
NFD_SCHOOL = (THCS, "Phúc Lợi")
COUNTS_ONLY = ((TH, "Gia Thượng"), (TH, "Ngọc Thụy A"), (TH, "Lý Thường Kiệt"))
COUNTS_ONLY += ((THCS, "Thượng Thanh"), (THCS, "Cự Khối"))
RATE_MISMATCH_SCHOOL = (TH, "Gia Thượng")
LIST_AND_COUNTS_SCHOOL = (TH, "Ái Mộ")
MOVED_FROM = CP1258_SCHOOL  # the old school still lists the person who moved ...
MOVED_TO = (TH, "Long Biên")  # ... to this school (where the world has them)
DUPLICATE_SCHOOL = (TH, "Bồ Đề")
OLD_TONE_SCHOOL = (TH, "Gia Thụy")
ALIASES = (
    # alias, (level, short), note
    ("Trường Tiểu học Gia Quất", (TH, "Thượng Thanh"), "Tên cũ của trường (trước khi đổi tên)"),
    ("THCS Thanh Am", (THCS, "Thượng Thanh"), "Tên cũ của trường (trước khi đổi tên)"),
)
ALIAS_IN_LIST = ALIASES[0]
ALIAS_IN_COUNTS = ALIASES[1]
FUZZY_STAFF_NAME = "Trường Tiểu học Đô thị Việt Hưg"
FUZZY_COUNTS_NAME = "Trường THCS Phú Đồng"
UNKNOWN_COUNTS_NAME = "Trường Tiểu học Khương Mai"
UNKNOWN_STAFF_NAME = "Trường THCS Khương Đình"
BAD_STATUS = "Kiểm tra lại"
ACTIVE = "Đang làm việc"

SAMPLE_NOTE = """DỮ LIỆU MẪU (dữ liệu tổng hợp, không phải số liệu thật)

Các file trong thư mục này do chương trình sinh ra (python -m analysis sample) để bộ công cụ chạy
được ngay: một quận Long Biên (Hà Nội) giả định, năm học 2023-2024, 142 trường (82 Mầm non,
33 Tiểu học, 27 THCS), 2.714 lớp, 87.097 học sinh. Các tổng số khớp với báo cáo đã công bố ngày
19/4/2024 (1248/1787 CBGVNV cấp Tiểu học có chữ ký số cá nhân, 246 đường truyền cáp quang,
866 máy tính phục vụ quản lý), nhưng số liệu từng trường, từng người là giả.

Họ tên, ngày sinh, số CCCD, số điện thoại, email trong các file đều là dữ liệu bịa, chỉ để kiểm
thử rằng dữ liệu cá nhân không lọt qua bước làm sạch.

Mọi sản phẩm tạo ra từ bộ dữ liệu này đều ghi rõ "Dữ liệu mẫu".
"""

REFORM_NOTE = """
Năm học 2025-2026 (sau ngày 1/7/2025, kỳ 2025-10-17 và 2025-12-12): cũng các trường ấy, cùng
mã trường, nay thuộc các phường Long Biên, Bồ Đề, Việt Hưng, Phúc Lợi, Hồng Hà (Thành phố Hà
Nội), thêm 5 trường THPT và 1 trường TH&THCS (tên trường THPT, TH&THCS là tên đặt ra). Số liệu
cũng là giả.
"""

FOOTER_NAMES = ("Nguyễn Thị Thu Hà", "Trần Minh Đức", "Lê Thị Hồng Nhung", "Phạm Văn Toàn")


# ------------------------------------------------------------------------------------------
# planted registry


class Planted:
    """What the generator planted where (1-based rows as Excel or a text editor shows)."""

    def __init__(self) -> None:
        self.defects: list[dict] = []
        self.sources: list[dict] = []
        self.counts_rows: list[dict] = []

    def add(
        self,
        file: str,
        sheet: str,
        rows,
        kind: str,
        defect: str,
        expected: str,
        reason: str | None = None,
        note: str | None = None,
        **extra,
    ) -> None:
        rows = [int(r) for r in np.atleast_1d(rows)]
        if not rows:
            return
        entry = {"file": file, "sheet": sheet, "row": rows[0], "kind": kind, "defect": defect}
        entry["expected"] = expected
        if reason:
            entry["reason"] = reason
        if len(rows) > 1:
            entry["rows"] = rows
        if note:
            entry["note"] = note
        entry.update(extra)
        self.defects.append(entry)


# ------------------------------------------------------------------------------------------
# helpers


def _ymd(period: str) -> str:
    return period.replace("-", "")


def _dmy(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _py_dates(values) -> pd.Series:
    """datetime64 values -> Python ``date`` objects (None where missing), as an object Series."""
    s = pd.Series(pd.to_datetime(pd.Series(values)))
    out = s.dt.date.astype(object)
    return out.where(s.notna(), None)


def _text_dates(values, fmt: str) -> pd.Series:
    s = pd.Series(pd.to_datetime(pd.Series(values)))
    out = s.dt.strftime(fmt).astype(object)
    return out.where(s.notna(), None)


def _dmy_nozero(values) -> pd.Series:
    s = pd.Series(pd.to_datetime(pd.Series(values)))
    out = (
        s.dt.day.astype("Int64").astype(str)
        + "/"
        + s.dt.month.astype("Int64").astype(str)
        + "/"
        + s.dt.year.astype("Int64").astype(str)
    ).astype(object)
    return out.where(s.notna(), None)


def _nfd(value):
    return unicodedata.normalize("NFD", value) if isinstance(value, str) else value


def _map_unique(series: pd.Series, func) -> pd.Series:
    """Apply ``func`` once per unique value (NaN/None kept)."""
    uniq = pd.unique(series.dropna())
    table = {u: func(u) for u in uniq}
    return series.map(table).astype(object).where(series.notna(), None)


def _listify(s: pd.Series) -> list:
    return s.astype(object).where(s.notna(), None).tolist()


def _vn_thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _rate_text(signed: int, total: int) -> str:
    return f"{100 * signed / total:.1f}".replace(".", ",") + "%" if total else ""


# ------------------------------------------------------------------------------------------
# staff rows


def _staff_rows(world: World, period: int, codes: list[str]) -> pd.DataFrame:
    """The people listed at ``period`` in the schools ``codes`` (in that order), with their
    employment and signature status as a list shows them."""
    p = world.persons
    st = status_at(p, period)
    keep = st["listed"].to_numpy() & p["school_code"].isin(codes).to_numpy()
    rows = p[keep].copy()
    st = st[keep]
    rank = {c: i for i, c in enumerate(codes)}
    rows["_school_rank"] = rows["school_code"].map(rank)
    rows["active"] = st["active"].to_numpy()
    rows["signed"] = st["signed"].to_numpy()
    rows["pending"] = st["pending"].to_numpy()
    rows["emp_status"] = np.where(rows["active"], ACTIVE, rows["leave_status"])
    rows["sig"] = np.select([rows["signed"], rows["pending"]], ["yes", "pending"], "no")
    has_prov = rows["signed"].to_numpy() | rows["pending"].to_numpy()
    rows["provider_w"] = np.where(has_prov, rows["provider"], "")
    rows["issued_w"] = rows["issued_on"].where(rows["signed"])
    rows["expires_w"] = rows["expires_on"].where(rows["signed"])
    rows = rows.sort_values(["_school_rank", "join_p", "pos_rank", "staff_id"], kind="stable")
    rows["extra"] = ""
    return rows.reset_index(drop=True)


def _extra_people(world: World, n: int, level: str, code: str, rng) -> pd.DataFrame:
    """Fabricated people for refused rows (not part of the world, never counted)."""
    from analysis.sample.world import _personal

    df = pd.DataFrame({"school_code": code, "level": level}, index=range(n))
    df["position"] = "Giáo viên"
    df["role"] = "GV"
    pers = _personal(df, rng)
    df = df.join(pers)
    df["active"] = True
    df["signed"] = True
    df["pending"] = False
    df["emp_status"] = ACTIVE
    df["sig"] = "yes"
    df["provider_w"] = "Viettel" if level == TH else "VNPT"
    df["issued_w"] = pd.Timestamp("2024-03-05")
    df["expires_w"] = pd.Timestamp("2027-03-04")
    df["join_p"] = 0
    return df


def _insert_after(rows: pd.DataFrame, extra: pd.DataFrame, anchor: int) -> pd.DataFrame:
    """``extra`` rows placed right after row position ``anchor`` of ``rows``."""
    a = rows.assign(_pos=np.arange(len(rows), dtype=float))
    b = extra.assign(_pos=anchor + (1 + np.arange(len(extra))) / (len(extra) + 1))
    out = pd.concat([a, b], ignore_index=True).sort_values("_pos", kind="stable")
    return out.drop(columns="_pos").reset_index(drop=True)


def _last_row_of(rows: pd.DataFrame, code: str) -> int:
    return int(np.flatnonzero(rows["school_code"].to_numpy() == code)[-1])


# ------------------------------------------------------------------------------------------
# the generator


class _Generator:
    def __init__(self, out: Path, seed: int) -> None:
        self.out = out
        self.seed = seed
        self.world = build_world(seed)
        self.rng = np.random.default_rng([seed, 1])
        self.planted = Planted()
        self.files: list[str] = []
        self._rows_cache: dict[int, pd.DataFrame] = {}
        w = self.world
        s = w.schools
        keys = zip(s["level"], s["short"], s["school_code"], strict=True)
        self.code_of = {(lv, sh): c for lv, sh, c in keys}
        self.name_of = dict(zip(s["school_code"], s["school_name"], strict=True))
        self.level_of = dict(zip(s["school_code"], s["level"], strict=True))
        self.order = list(s["school_code"])
        own = {TCVN3_SCHOOL, VNI_SCHOOL, CP1258_SCHOOL, BOM_SCHOOL, NFD_SCHOOL}
        special = {self.code_of[k] for k in own | set(COUNTS_ONLY)}
        self.list_codes = {
            lv: [c for c in self.order if self.level_of[c] == lv and c not in special]
            for lv in (TH, THCS)
        }
        # the people behind the duplicated and the moved rows
        p = w.persons
        steady = (p["join_p"] == 0) & (p["leave_p"] == NEVER) & (p["position"] == "Giáo viên")
        self.dup_id = p.loc[steady & (p["school_code"] == self.code_of[DUPLICATE_SCHOOL])].iloc[3][
            "staff_id"
        ]
        self.moved_id = p.loc[steady & (p["school_code"] == self.code_of[MOVED_TO])].iloc[5][
            "staff_id"
        ]
        # written school-name forms in the primary district export
        self.th_forms = self._primary_name_forms()
        self.numeric_code_thcs = set(
            self.rng.choice(self.list_codes[THCS], size=3, replace=False).tolist()
        )

    # -- bookkeeping ---------------------------------------------------------------------

    def rel(self, period: str, name: str) -> str:
        return f"{period}/{name}"

    def _primary_name_forms(self) -> dict[str, str]:
        forms = {}
        for c in self.list_codes[TH]:
            short = self.world.schools.set_index("school_code").loc[c, "short"]
            k = int(self.rng.integers(0, 4))
            forms[c] = (
                f"Trường Tiểu học {short}",
                f"TH {short}",
                f"TRƯỜNG TH {short}".upper(),
                f"Tiểu học {short}",
            )[k]
        c = self.code_of
        forms[c[LIST_AND_COUNTS_SCHOOL]] = "TRƯỜNG TH ÁI MỘ"
        forms[c[OLD_TONE_SCHOOL]] = "TH Gia Thuỵ"
        forms[c[ALIAS_IN_LIST[1]]] = ALIAS_IN_LIST[0]
        forms[c[MOVED_TO]] = "Trường Tiểu học\u00a0Long Biên"
        forms[c[(TH, "Ngọc Lâm")]] = "TH  Ngọc Lâm"
        forms[c[(TH, "Phúc Đồng")]] = "Trường Tiểu học Phúc Đồng\u200b"
        forms[c[(TH, "Thạch Bàn A")]] = "Trường Tiểu học Thạch Bàn A"
        forms[c[(TH, "Ngọc Thụy B")]] = "TH Ngọc Thụy B"
        return forms

    # -- run -------------------------------------------------------------------------------

    def run(self) -> dict:
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / paths.SAMPLE_MARK_FILE).write_text(SAMPLE_NOTE, encoding="utf-8")
        self._write_aliases()
        self._truong(PERIODS[0])
        for i in range(len(PERIODS)):
            self._district_export(i, TH)
            self._district_export(i, THCS)
            self._tcvn3_file(i)
            self._vni_file(i)
            self._cp1258_file(i)
            self._bom_file(i)
            self._nfd_file(i)
            self._counts(i)
        self._ha_tang(PERIODS[REF])
        self._hoc_ba(PERIODS[-1])
        return self._planted_json()

    def _write_aliases(self) -> None:
        rows = pd.DataFrame(
            {
                "alias": [a for a, _, _ in ALIASES],
                "school_code": [self.code_of[k] for _, k, _ in ALIASES],
                "note": [n for _, _, n in ALIASES],
            }
        )
        path = self.out / ALIASES_FILE
        rows.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        self.files.append(ALIASES_FILE)

    # -- truong ----------------------------------------------------------------------------

    def _truong(self, period: str) -> None:
        s = self.world.schools.sort_values("order")
        n = len(s)
        rng = self.rng
        name = "DanhSachTruong_LongBien_NH2023-2024.xlsx"
        rel = self.rel(period, name)
        numeric_code = rng.random(n) < 0.1
        codes = (
            s["school_code"]
            .astype(object)
            .where(~numeric_code, s["school_code"].astype(int).astype(object))
        )
        level_w = s["level"].astype(object).copy()
        tcs = np.flatnonzero((s["level"] == THCS).to_numpy())
        level_w.iloc[tcs[::5]] = "Trung học cơ sở"
        pupils = s["n_pupils"].to_numpy()
        text_num = (pupils >= 1000) & (rng.random(n) < 0.5)
        pupils_w = pd.Series(pupils.tolist(), dtype=object)
        pupils_w[text_num] = pd.Series(pupils[text_num]).map(_vn_thousands).to_numpy()
        cols = [
            Col("STT", list(range(1, n + 1)), width=6),
            Col("Mã trường", codes.tolist(), width=12),
            Col("Tên trường", s["school_name"].tolist(), width=36),
            Col("Cấp học", level_w.tolist(), width=14),
            Col("Loại hình", s["ownership"].tolist(), width=12),
            Col("Phường", s["ward"].tolist(), width=14),
            Col("Quận/Huyện", s["district"].tolist(), width=12),
            Col("Số lớp", s["n_classes"].astype(int).tolist(), width=8),
            Col("Số học sinh", pupils_w.tolist(), width=10),
            Col("Số HS có mã định danh", s["n_pupils_with_id"].astype(int).tolist(), width=12),
            Col("Số HS đã xác thực (CSDL dân cư)", s["n_pupils_verified"].astype(int).tolist()),
        ]
        total = {
            2: "Tổng cộng",
            7: int(s["n_classes"].sum()),
            8: _vn_thousands(int(pupils.sum())),
            9: int(s["n_pupils_with_id"].sum()),
            10: int(s["n_pupils_verified"].sum()),
        }
        spec = SheetSpec(
            "Danh sách trường",
            cols,
            titles=[
                "UBND QUẬN LONG BIÊN",
                "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
                "DANH SÁCH TRƯỜNG NĂM HỌC 2023-2024",
                f"(Số liệu tính đến ngày {_dmy(PERIOD_DATES[0])})",
            ],
            total=total,
            footer=["Long Biên, ngày 15 tháng 12 năm 2023", "Người lập biểu", FOOTER_NAMES[0]],
        )
        wb = new_workbook(self.out / rel, PERIOD_DATES[0])
        lay = write_sheet(wb, spec)
        wb.close()
        self._source(period, rel, lay, "truong", None)
        first = lay["first_row"]
        sh = lay["sheet"]
        P = self.planted
        P.add(rel, sh, lay["title_rows"], "truong", "title_rows", "skipped")
        P.add(rel, sh, lay["total_row"], "truong", "total_row", "skipped")
        P.add(rel, sh, lay["footer_rows"], "truong", "footer", "skipped")
        P.add(
            rel,
            sh,
            first + np.flatnonzero(numeric_code),
            "truong",
            "leading_zero_lost",
            "repaired",
            column="Mã trường",
        )
        P.add(
            rel,
            sh,
            first + np.flatnonzero(text_num),
            "truong",
            "text_number",
            "repaired",
            column="Số học sinh",
        )
        P.add(rel, sh, first + tcs[::5], "truong", "level_alias", "repaired", column="Cấp học")

    # -- staff lists -----------------------------------------------------------------------

    def _mixed_dates(self, values, p_text: float, rng, plain=None) -> tuple[list, np.ndarray]:
        """Date cells, with some rows as 'dd/mm/yyyy' text; returns values and the text mask.
        Rows where ``plain`` is False stay date cells."""
        d = _py_dates(values)
        t = _text_dates(values, "%d/%m/%Y")
        text = (rng.random(len(d)) < p_text) & d.notna().to_numpy()
        if plain is not None:
            text &= plain
        return d.where(~text, t).tolist(), text

    def _district_export(self, i: int, level: str) -> None:
        period = PERIODS[i]
        pdate = PERIOD_DATES[i]
        rng = np.random.default_rng([self.seed, 100 + i, 1 if level == TH else 2])
        codes = self.list_codes[level]
        rows = self._staff(i, codes)
        base_n = len(rows)
        # planted extra rows
        if level == TH:
            dup_at = int(np.flatnonzero(rows["staff_id"].to_numpy() == self.dup_id)[0])
            dup = rows.iloc[[dup_at]].assign(extra="duplicate_person")
            rows = _insert_after(rows, dup, dup_at)
            anchor_code = self.code_of[(TH, "Phúc Đồng")]
            ex = _extra_people(self.world, 4, TH, anchor_code, rng)
            ex["extra"] = ["expiry_before_issue", "missing_id", "fuzzy_school", "fuzzy_school"]
            ex.loc[0, "issued_w"] = pd.Timestamp("2024-03-05")
            ex.loc[0, "expires_w"] = pd.Timestamp("2023-03-04")
            ex.loc[1, "staff_id"] = ""
            ex.loc[3, "sig"] = "no"
            ex.loc[3, ["issued_w", "expires_w"]] = pd.NaT
            ex.loc[3, "provider_w"] = ""
            rows = _insert_after(rows, ex, _last_row_of(rows, anchor_code))
        else:
            anchor_code = self.code_of[(THCS, "Sài Đồng")]
            ex = _extra_people(self.world, 2, THCS, anchor_code, rng)
            ex["extra"] = ["bad_status", "unknown_school"]
            rows = _insert_after(rows, ex, _last_row_of(rows, anchor_code))
        n = len(rows)
        is_dup = (rows["extra"] == "duplicate_person").to_numpy()
        # the duplicated row and its original carry no random mess, so they stay identical
        plain = ~(is_dup | np.roll(is_dup, -1)) & (rows["extra"] == "").to_numpy()
        stt = np.cumsum(~is_dup)
        # school names as written
        if level == TH:
            school_w = rows["school_code"].map(self.th_forms).astype(object)
            school_w[(rows["extra"] == "fuzzy_school").to_numpy()] = FUZZY_STAFF_NAME
        else:
            forms = {}
            for k, c in enumerate(codes):
                short = self.name_of[c].removeprefix("Trường THCS ")
                forms[c] = (f"Trường THCS {short}", f"THCS {short}", f"Trung học cơ sở {short}")[
                    k % 3
                ]
            school_w = rows["school_code"].map(forms).astype(object)
            unk = (rows["extra"] == "unknown_school").to_numpy()
            school_w[unk] = UNKNOWN_STAFF_NAME
            code_w = rows["school_code"].astype(object)
            numeric = rows["school_code"].isin(self.numeric_code_thcs).to_numpy() & ~unk
            code_w[numeric] = rows.loc[numeric, "school_code"].astype(int)
            code_w[unk] = None
        status_w = rows["sig"].map({"yes": "Đã cấp", "no": "Chưa cấp", "pending": "Đang đăng ký"})
        status_w = status_w.astype(object)
        status_w[(rows["extra"] == "bad_status").to_numpy()] = BAD_STATUS
        signed_rows = np.flatnonzero((rows["sig"] == "yes").to_numpy() & plain)
        zw = rng.choice(signed_rows, size=2, replace=False) if level == TH else []
        for r in zw:  # a handful of planted cells
            status_w.iloc[r] = "Đã cấp\u200b"
        emp_w = rows["emp_status"].astype(object)
        blank_emp = (rng.random(n) < 0.02) & (emp_w == ACTIVE).to_numpy() & plain
        emp_w[blank_emp] = None
        names = rows["full_name"].astype(object)
        dbl = (rng.random(n) < 0.01) & names.notna().to_numpy() & plain
        names[dbl] = names[dbl].str.replace(" ", "  ", n=1)
        birth, _ = self._mixed_dates(rows["birth_date"], 0.1, rng, plain)
        issued, issued_text = self._mixed_dates(rows["issued_w"], 0.08, rng, plain)
        expires, _ = self._mixed_dates(rows["expires_w"], 0.08, rng, plain)
        cands = np.flatnonzero(~issued_text & rows["issued_w"].notna().to_numpy() & plain)
        serial_rows = np.sort(rng.choice(cands, size=3, replace=False))
        cols = [
            Col("STT", stt.tolist(), width=6),
            Col("Mã định danh", _listify(rows["staff_id"].replace("", None)), width=13),
            Col("Họ và tên", names.tolist(), width=24),
            Col("Ngày sinh", birth, kind="date", width=11),
            Col("Số CCCD", rows["id_number"].tolist(), width=14),
            Col("Số điện thoại", rows["phone"].tolist(), width=12),
            Col("Email", rows["email"].tolist(), width=26),
            Col("Chức vụ", rows["position"].tolist(), width=18),
        ]
        if level == THCS:
            cols.append(Col("Mã trường", code_w.tolist(), width=11))
        cols += [
            Col("Tên trường", school_w.tolist(), width=30),
            Col("Trạng thái CB", emp_w.tolist(), width=14),
            Col("Trạng thái", status_w.tolist(), group="Chữ ký số", width=13),
            Col("Nhà cung cấp", _listify(rows["provider_w"].replace("", None)), group="Chữ ký số"),
            Col("Ngày cấp", issued, group="Chữ ký số", kind="date", width=11),
            Col("Ngày hết hạn", expires, group="Chữ ký số", kind="date", width=11),
        ]
        c_issued = len(cols) - 2
        serial_cells = [(int(r), c_issued, excel_serial(issued[r])) for r in serial_rows]
        lvl_title = "CẤP TIỂU HỌC" if level == TH else "CẤP TRUNG HỌC CƠ SỞ"
        spec = SheetSpec(
            "DanhSachCBGVNV",
            cols,
            titles=[
                "UBND QUẬN LONG BIÊN",
                "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
                f"DANH SÁCH CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN {lvl_title}",
                f"(Số liệu tính đến ngày {_dmy(pdate)})",
            ],
            footer=[
                f"Long Biên, ngày {pdate.day} tháng {pdate.month} năm {pdate.year}",
                "Người lập biểu",
                FOOTER_NAMES[1 if level == TH else 2],
            ],
            serial_cells=serial_cells,
        )
        tag = "TieuHoc" if level == TH else "THCS"
        rel = self.rel(period, f"CSDL_CBGVNV_{tag}_{_ymd(period)}.xlsx")
        wb = new_workbook(self.out / rel, pdate)
        lay = write_sheet(wb, spec)
        lookup = [("Chức vụ", p) for p in POSITIONS] + [("Nhà cung cấp", p) for p in PROVIDERS]
        lay2 = write_lookup_sheet(wb, "DanhMuc", lookup)
        wb.close()
        self._source(period, rel, lay, "cbgvnv", level)
        first, sh, P = lay["first_row"], lay["sheet"], self.planted
        P.add(rel, sh, lay["title_rows"], "cbgvnv", "title_rows", "skipped")
        P.add(
            rel,
            sh,
            lay["header_rows"][0],
            "cbgvnv",
            "merged_header",
            "repaired",
            note="'Chữ ký số' gộp trên 4 cột: Trạng thái, Nhà cung cấp, Ngày cấp, Ngày hết hạn",
        )
        P.add(rel, sh, lay["footer_rows"], "cbgvnv", "footer", "skipped")
        P.add(rel, "DanhMuc", 1, "", "lookup_sheet", "skipped")
        self.planted.sources.append(
            {"period": period, "file": rel, "sheet": "DanhMuc", "kind": None, **_slim(lay2)}
        )
        ex = rows["extra"].to_numpy()

        def rows_of(mask):
            return first + np.flatnonzero(mask)

        if level == TH:
            P.add(
                rel,
                sh,
                rows_of(is_dup),
                "cbgvnv",
                "duplicate_person",
                "counted_once",
                note="dòng giống hệt dòng ngay trên (cùng Mã định danh): chỉ tính một lần",
                staff_row=int(rows_of(is_dup)[0] - 1),
            )
            P.add(
                rel,
                sh,
                rows_of(ex == "expiry_before_issue"),
                "cbgvnv",
                "expiry_before_issue",
                "quarantined",
                "expiry_before_issue",
            )
            P.add(
                rel,
                sh,
                rows_of(ex == "missing_id"),
                "cbgvnv",
                "missing_id",
                "quarantined",
                "missing_id",
            )
            P.add(
                rel,
                sh,
                rows_of(ex == "fuzzy_school"),
                "cbgvnv",
                "fuzzy_school",
                "quarantined",
                "fuzzy_school",
                candidate=self.code_of[(TH, "Đô thị Việt Hưng")],
                value=FUZZY_STAFF_NAME,
            )
            moved_row = rows_of(rows["staff_id"].to_numpy() == self.moved_id)
            P.add(
                rel,
                sh,
                moved_row,
                "cbgvnv",
                "moved_person",
                "counted_once",
                note="người này cũng có trong file của trường cũ (Vũ Xuân Thiều)",
            )
            P.add(
                rel,
                sh,
                rows_of(np.isin(np.arange(n), zw)),
                "cbgvnv",
                "zero_width",
                "repaired",
                column="Chữ ký số / Trạng thái",
            )
            for key, defect in (
                (ALIAS_IN_LIST[1], "alias_school"),
                (OLD_TONE_SCHOOL, "old_tone"),
                (MOVED_TO, "nbsp"),
                ((TH, "Ngọc Lâm"), "double_space"),
                ((TH, "Phúc Đồng"), "zero_width"),
            ):
                m = (rows["school_code"] == self.code_of[key]).to_numpy() & (ex == "")
                P.add(
                    rel,
                    sh,
                    rows_of(m),
                    "cbgvnv",
                    defect,
                    "repaired",
                    column="Tên trường",
                    school_code=self.code_of[key],
                )
        else:
            P.add(
                rel,
                sh,
                rows_of(ex == "bad_status"),
                "cbgvnv",
                "bad_status",
                "quarantined",
                "bad_status",
                value=BAD_STATUS,
            )
            P.add(
                rel,
                sh,
                rows_of(ex == "unknown_school"),
                "cbgvnv",
                "unknown_school",
                "quarantined",
                "unmatched_school",
                value=UNKNOWN_STAFF_NAME,
            )
            m = rows["school_code"].isin(self.numeric_code_thcs).to_numpy() & (ex == "")
            P.add(
                rel, sh, rows_of(m), "cbgvnv", "leading_zero_lost", "repaired", column="Mã trường"
            )
        real = ex == ""
        active = rows["active"].to_numpy()
        P.add(
            rel,
            sh,
            rows_of(real & ~active),
            "cbgvnv",
            "left_staff",
            "skipped",
            note="Trạng thái CB khác 'Đang làm việc': không tính vào tổng số",
        )
        P.add(
            rel,
            sh,
            rows_of(real & (rows["sig"] == "pending").to_numpy() & active),
            "cbgvnv",
            "pending",
            "skipped",
            note="Đang đăng ký: tính là chưa có, báo cáo riêng (n_pending)",
        )
        P.add(
            rel,
            sh,
            first + serial_rows,
            "cbgvnv",
            "serial_date",
            "repaired",
            column="Chữ ký số / Ngày cấp",
        )
        P.add(
            rel,
            sh,
            rows_of(issued_text),
            "cbgvnv",
            "text_date",
            "repaired",
            column="Chữ ký số / Ngày cấp",
        )
        P.add(
            rel,
            sh,
            rows_of(blank_emp),
            "cbgvnv",
            "blank_status",
            "repaired",
            column="Trạng thái CB",
            note="Trạng thái CB trống: tính là đang làm việc",
        )
        assert n == base_n + (5 if level == TH else 2)

    def _staff(self, i: int, codes: list[str]) -> pd.DataFrame:
        """The listed people of ``codes`` (in district order) at period ``i`` (cached)."""
        if i not in self._rows_cache:
            self._rows_cache[i] = _staff_rows(self.world, i, self.order)
        rows = self._rows_cache[i]
        return rows[rows["school_code"].isin(codes)].reset_index(drop=True)

    def _own_rows(self, i: int, key) -> pd.DataFrame:
        return self._staff(i, [self.code_of[key]])

    def _tcvn3_file(self, i: int) -> None:
        from analysis.core.legacy import encode_tcvn3

        self._legacy_xlsx(i, TCVN3_SCHOOL, "tcvn3", encode_tcvn3, "TH_ThachBanB_danh_sach_CKS")

    def _vni_file(self, i: int) -> None:
        from analysis.core.legacy import encode_vni

        self._legacy_xlsx(i, VNI_SCHOOL, "vni", encode_vni, "TH_DoanKhue_CBGVNV")

    def _legacy_xlsx(self, i: int, key, enc: str, encode, stem: str) -> None:
        """A school's own list typed with a legacy font: every text cell is mojibake."""
        period, pdate = PERIODS[i], PERIOD_DATES[i]
        rows = self._own_rows(i, key)
        code = self.code_of[key]
        name = self.name_of[code]
        if enc == "tcvn3":
            vocab = {"yes": "Đã cấp", "no": "Chưa cấp", "pending": "Đang đăng ký"}

            def title_enc(t):
                return encode(t, upper="lower")

            school_col = Col(encode("Tên trường"), [encode(name)] * len(rows), width=30)
            sheet = "Sheet1"
            titles = [title_enc(name.upper()), title_enc("DANH SÁCH CBGVNV VÀ CHỮ KÝ SỐ CÁ NHÂN")]
        else:
            vocab = {"yes": "Đã có", "no": "Chưa có", "pending": "Đang chờ"}
            title_enc = encode
            school_col = Col(encode("Mã trường"), [code] * len(rows), width=11)
            sheet = "DS CBGVNV"
            titles = [encode(name), encode(f"Danh sách CBGVNV - tháng {pdate.month}/{pdate.year}")]

        def enc_col(s: pd.Series) -> list:
            return _listify(_map_unique(s.replace("", None), encode))

        cols = [
            Col("STT", list(range(1, len(rows) + 1)), width=6),
            Col(encode("Mã định danh"), rows["staff_id"].tolist(), width=13),
            Col(encode("Họ và tên"), enc_col(rows["full_name"]), width=24),
            Col(encode("Ngày sinh"), _listify(_text_dates(rows["birth_date"], "%d/%m/%Y"))),
            Col(encode("Số CCCD"), rows["id_number"].tolist(), width=14),
            Col(encode("Số điện thoại"), rows["phone"].tolist(), width=12),
            Col(encode("Chức vụ"), enc_col(rows["position"]), width=18),
            school_col,
            Col(encode("Trạng thái CB"), enc_col(rows["emp_status"]), width=14),
            Col(encode("Chữ ký số"), enc_col(rows["sig"].map(vocab)), width=13),
            Col(encode("Nhà cung cấp"), enc_col(rows["provider_w"]), width=12),
            Col(encode("Ngày cấp"), _listify(_text_dates(rows["issued_w"], "%d/%m/%Y"))),
            Col(encode("Ngày hết hạn"), _listify(_text_dates(rows["expires_w"], "%d/%m/%Y"))),
        ]
        spec = SheetSpec(sheet, cols, titles=titles)
        rel = self.rel(period, f"{stem}.xlsx")
        wb = new_workbook(self.out / rel, pdate)
        lay = write_sheet(wb, spec)
        wb.close()
        self._source(period, rel, lay, "cbgvnv", TH, encoding=enc, school_code=code)
        first = lay["first_row"]
        self.planted.add(
            rel,
            sheet,
            lay["header_rows"][0],
            "cbgvnv",
            enc,
            "repaired",
            note=f"mọi ô chữ gõ bằng bảng mã {enc.upper()}, kể cả tiêu đề cột",
            sample=encode("Họ và tên"),
        )
        self._plant_status(rel, sheet, rows, first)

    def _plant_status(self, rel: str, sheet: str, rows: pd.DataFrame, first: int) -> None:
        active = rows["active"].to_numpy()
        left = first + np.flatnonzero(~active)
        pend = first + np.flatnonzero(active & (rows["sig"] == "pending").to_numpy())
        self.planted.add(rel, sheet, left, "cbgvnv", "left_staff", "skipped")
        self.planted.add(rel, sheet, pend, "cbgvnv", "pending", "skipped")

    def _cp1258_file(self, i: int) -> None:
        """Vũ Xuân Thiều's own list: CSV, Windows-1258, ';' (and the moved person)."""
        period, pdate = PERIODS[i], PERIOD_DATES[i]
        code = self.code_of[CP1258_SCHOOL]
        rows = self._own_rows(i, CP1258_SCHOOL)
        moved = self._staff(i, [self.code_of[MOVED_TO]])
        moved = moved[moved["staff_id"] == self.moved_id]
        rows = pd.concat([rows, moved.assign(extra="moved_person")], ignore_index=True)
        status = rows["sig"].map({"yes": "x", "no": "", "pending": "Đang đăng ký"})
        df = pd.DataFrame(
            {
                "STT": np.arange(1, len(rows) + 1).astype(str),
                "Mã định danh": rows["staff_id"],
                "Họ và tên": rows["full_name"],
                "Ngày sinh": _dmy_nozero(rows["birth_date"]),
                "Số CCCD": rows["id_number"],
                "Số điện thoại": rows["phone"],
                "Chức vụ": rows["position"],
                "Tên trường": "Tiểu học Vũ Xuân Thiều",
                "Trạng thái CB": rows["emp_status"],
                "Đã có CKS": status,
                "Nhà cung cấp": rows["provider_w"],
                "Ngày cấp": _dmy_nozero(rows["issued_w"]),
                "Ngày hết hạn": _dmy_nozero(rows["expires_w"]),
            }
        )
        rel = self.rel(period, "TH_VuXuanThieu_CKS.csv")
        header_line = write_csv(
            self.out / rel,
            df,
            sep=";",
            encoding="cp1258",
            preamble=[f"DANH SÁCH CBGVNV TRƯỜNG TIỂU HỌC VŨ XUÂN THIỀU - {_dmy(pdate)}", ""],
        )
        first = header_line + 1
        lay = {"header_rows": [header_line], "first_row": first, "last_row": first + len(df) - 1}
        lay["columns"] = list(df.columns)
        self._source(
            period, rel, lay, "cbgvnv", TH, encoding="cp1258", delimiter=";", school_code=code
        )
        P = self.planted
        P.add(
            rel,
            "",
            header_line,
            "cbgvnv",
            "cp1258_csv",
            "repaired",
            note="CSV Windows-1258, dấu phân cách ';', ngày dạng d/m/yyyy",
        )
        P.add(rel, "", 1, "cbgvnv", "title_rows", "skipped")
        is_moved = (rows["extra"] == "moved_person").to_numpy()
        P.add(
            rel,
            "",
            first + np.flatnonzero(is_moved),
            "cbgvnv",
            "moved_person",
            "counted_once",
            note="cùng Mã định danh với một dòng của trường Long Biên (file "
            "CSDL cấp Tiểu học); cả hai dòng đều 'Đang làm việc', cùng chữ ký số: tổng cấp học "
            "không đổi dù quy tắc chọn trường nào",
            other_school=self.code_of[MOVED_TO],
            staff_school=self.code_of[MOVED_TO],
        )
        self._plant_status(rel, "", rows[~is_moved], first)

    def _bom_file(self, i: int) -> None:
        """THCS Ngọc Lâm: CSV UTF-8 with BOM, ',' and alias headers."""
        period = PERIODS[i]
        code = self.code_of[BOM_SCHOOL]
        rows = self._own_rows(i, BOM_SCHOOL)
        iso = self.rng.random(len(rows)) < 0.5
        issued = _text_dates(rows["issued_w"], "%Y-%m-%d").where(
            iso, _text_dates(rows["issued_w"], "%d-%m-%Y")
        )
        expires = _text_dates(rows["expires_w"], "%Y-%m-%d").where(
            iso, _text_dates(rows["expires_w"], "%d-%m-%Y")
        )
        df = pd.DataFrame(
            {
                "Mã CB": rows["staff_id"],
                "Họ tên": rows["full_name"],
                "Ngày sinh": _text_dates(rows["birth_date"], "%d-%m-%Y"),
                "CCCD": rows["id_number"],
                "Điện thoại": rows["phone"],
                "Email": rows["email"],
                "Vị trí việc làm": rows["position"],
                "Mã trường": code,
                "Trạng thái": rows["emp_status"],
                "Trạng thái chữ ký số": rows["sig"].map(
                    {"yes": "Đã có", "no": "Chưa có", "pending": "Đang chờ"}
                ),
                "Đơn vị cung cấp": rows["provider_w"],
                "Ngày cấp": issued,
                "Ngày hết hạn": expires,
            }
        )
        rel = self.rel(period, "THCS_NgocLam_CBGVNV.csv")
        header_line = write_csv(self.out / rel, df, sep=",", encoding="utf-8-sig")
        first = header_line + 1
        lay = {"header_rows": [header_line], "first_row": first, "last_row": first + len(df) - 1}
        lay["columns"] = list(df.columns)
        self._source(
            period, rel, lay, "cbgvnv", THCS, encoding="utf-8-sig", delimiter=",", school_code=code
        )
        self.planted.add(
            rel,
            "",
            1,
            "cbgvnv",
            "utf8_bom_csv",
            "repaired",
            note="CSV UTF-8 có BOM; tên cột dạng khác (Mã CB, Họ tên, ...)",
        )
        self._plant_status(rel, "", rows, first)

    def _nfd_file(self, i: int) -> None:
        """THCS Phúc Lợi: an xlsx whose text is all in NFD (decomposed) form."""
        period, pdate = PERIODS[i], PERIOD_DATES[i]
        code = self.code_of[NFD_SCHOOL]
        rows = self._own_rows(i, NFD_SCHOOL)
        vocab = {"yes": "Đã cấp", "no": "Chưa cấp", "pending": "Đang đăng ký"}

        def col(label, s, **kw):
            return Col(_nfd(label), _listify(_map_unique(s.replace("", None), _nfd)), **kw)

        birth, _ = self._mixed_dates(rows["birth_date"], 0.0, self.rng)
        cols = [
            Col("STT", list(range(1, len(rows) + 1)), width=6),
            Col(_nfd("Mã định danh"), rows["staff_id"].tolist(), width=13),
            col("Họ và tên", rows["full_name"], width=24),
            Col(_nfd("Ngày sinh"), birth, kind="date"),
            Col(_nfd("Số CCCD"), rows["id_number"].tolist(), width=14),
            col("Chức vụ", rows["position"], width=18),
            Col(_nfd("Tên trường"), [_nfd(self.name_of[code])] * len(rows), width=28),
            col("Trạng thái CB", rows["emp_status"]),
            col("Chữ ký số", rows["sig"].map(vocab)),
            col("Nhà cung cấp", rows["provider_w"]),
            Col(_nfd("Ngày cấp"), _py_dates(rows["issued_w"]).tolist(), kind="date"),
            Col(_nfd("Ngày hết hạn"), _py_dates(rows["expires_w"]).tolist(), kind="date"),
        ]
        sheet = "CBGVNV"
        spec = SheetSpec(sheet, cols, titles=[_nfd(f"Trường THCS Phúc Lợi - {_dmy(pdate)}")])
        rel = self.rel(period, "THCS_PhucLoi_CBGVNV.xlsx")
        wb = new_workbook(self.out / rel, pdate)
        lay = write_sheet(wb, spec)
        wb.close()
        self._source(period, rel, lay, "cbgvnv", THCS, encoding="nfd", school_code=code)
        first = lay["first_row"]
        self.planted.add(
            rel,
            sheet,
            [lay["header_rows"][0], first],
            "cbgvnv",
            "nfd",
            "repaired",
            note="mọi ô chữ ở dạng NFD (tổ hợp)",
        )
        self._plant_status(rel, sheet, rows, first)

    # -- per-school counts -----------------------------------------------------------------

    def _counts(self, i: int) -> None:
        period, pdate = PERIODS[i], PERIOD_DATES[i]
        st = status_at(self.world.persons, i)
        p = self.world.persons
        act = st["active"].to_numpy()
        sig = act & st["signed"].to_numpy()
        per_school = (
            pd.DataFrame({"code": p["school_code"], "a": act, "s": sig})
            .groupby("code")[["a", "s"]]
            .sum()
        )
        entries = [
            (LIST_AND_COUNTS_SCHOOL, "Trường Tiểu học Ái Mộ"),
            (RATE_MISMATCH_SCHOOL, "TH Gia Thượng"),
            ((TH, "Ngọc Thụy A"), "Tiểu học Ngọc Thụy A"),
            ((TH, "Lý Thường Kiệt"), "Trường TH Lý Thường Kiệt"),
            (ALIAS_IN_COUNTS[1], ALIAS_IN_COUNTS[0]),
            ((THCS, "Cự Khối"), "Trường THCS Cự Khối"),
        ]
        names, totals, signed, rates, meta = [], [], [], [], []
        for k, (key, written) in enumerate(entries):
            code = self.code_of[key]
            n_staff, n_signed = (int(v) for v in per_school.loc[code, ["a", "s"]])
            superseded = key == LIST_AND_COUNTS_SCHOOL
            if superseded:  # the school's own count differs a little from its list
                n_staff, n_signed = n_staff + 1, max(0, n_signed - 2)
            rate = 100 * n_signed / n_staff
            if key == RATE_MISMATCH_SCHOOL:  # off by 3,4 points (a warning, not a refusal)
                off = -3.4 if rate >= 50 else 3.4
                rate_w: object = f"{rate + off:.1f}".replace(".", ",") + "%"
            elif k % 2 == 0:
                rate_w = _rate_text(n_signed, n_staff)
            else:
                rate_w = round(rate, 1)
            names.append(written)
            totals.append(n_staff)
            signed.append(n_signed)
            rates.append(rate_w)
            meta.append((code, key, n_staff, n_signed, superseded))
        tot_staff, tot_signed = sum(totals), sum(signed)
        cols = [
            Col("STT", list(range(1, len(names) + 1)), width=6),
            Col("Tên trường", names, width=32),
            Col("Tổng số CBGVNV", totals, width=12),
            Col("Số CBGVNV đã có chữ ký số", signed, width=14),
            Col("Tỷ lệ (%)", rates, width=10),
        ]
        spec = SheetSpec(
            "Phụ lục",
            cols,
            titles=[
                "PHỤ LỤC",
                "TỔNG HỢP SỐ CBGVNV ĐÃ CÓ CHỮ KÝ SỐ CÁ NHÂN",
                f"(Số liệu tính đến ngày {pdate.day}/{pdate.month}/{pdate.year})",
            ],
            total={
                1: "Tổng cộng",
                2: tot_staff,
                3: tot_signed,
                4: _rate_text(tot_signed, tot_staff),
            },
        )
        rel = self.rel(period, f"TongHop_CKS_cac_truong_{_ymd(period)}.xlsx")
        wb = new_workbook(self.out / rel, pdate)
        lay = write_sheet(wb, spec)
        wb.close()
        self._source(period, rel, lay, "tonghop_cks", None)
        first, sh, P = lay["first_row"], lay["sheet"], self.planted
        for k, (code, key, n_staff, n_signed, superseded) in enumerate(meta):
            self.planted.counts_rows.append(
                {
                    "period": period,
                    "file": rel,
                    "sheet": sh,
                    "row": first + k,
                    "school_code": code,
                    "level": key[0],
                    "n_staff": n_staff,
                    "n_signed": n_signed,
                    "superseded": superseded,
                }
            )
            if superseded:
                P.add(
                    rel,
                    sh,
                    first + k,
                    "tonghop_cks",
                    "list_and_counts",
                    "warning",
                    note="trường gửi cả danh sách (file CSDL cấp Tiểu học) và số tổng hợp; "
                    "danh sách được dùng, số tổng hợp lệch một chút",
                    school_code=code,
                )
            if key == RATE_MISMATCH_SCHOOL:
                P.add(
                    rel,
                    sh,
                    first + k,
                    "tonghop_cks",
                    "rate_mismatch",
                    "warning",
                    value=rates[k],
                    school_code=code,
                )
            if key == ALIAS_IN_COUNTS[1]:
                P.add(
                    rel,
                    sh,
                    first + k,
                    "tonghop_cks",
                    "alias_school",
                    "repaired",
                    value=ALIAS_IN_COUNTS[0],
                    school_code=code,
                )
        P.add(rel, sh, lay["title_rows"], "tonghop_cks", "title_rows", "skipped")
        P.add(
            rel,
            sh,
            lay["total_row"],
            "tonghop_cks",
            "total_row",
            "skipped",
            note="dòng Tổng cộng = tổng các dòng dữ liệu của sheet",
        )
        self._counts_refused(i)

    def _counts_refused(self, i: int) -> None:
        """A late supplementary form whose every row must be refused."""
        period, pdate = PERIODS[i], PERIOD_DATES[i]
        bad = [
            ("Trường THCS Bồ Đề", 48, 52, "108,3%", "signed_gt_total", "signed_gt_total"),
            ("Trường THCS Ái Mộ", -3, 0, "", "negative_count", "negative_count"),
            (UNKNOWN_COUNTS_NAME, 45, 30, "66,7%", "unknown_school", "unmatched_school"),
            (FUZZY_COUNTS_NAME, 50, 35, "70,0%", "fuzzy_school", "fuzzy_school"),
        ]
        cols = [
            Col("STT", list(range(1, len(bad) + 1)), width=6),
            Col("Tên trường", [b[0] for b in bad], width=32),
            Col("Tổng số CBGVNV", [b[1] for b in bad], width=12),
            Col("Số CBGVNV đã có chữ ký số", [b[2] for b in bad], width=14),
            Col("Tỷ lệ (%)", [b[3] or None for b in bad], width=10),
        ]
        spec = SheetSpec("Sheet1", cols, titles=["SỐ LIỆU BỔ SUNG CHỮ KÝ SỐ"])
        rel = self.rel(period, f"TongHop_CKS_bo_sung_{_ymd(period)}.xlsx")
        wb = new_workbook(self.out / rel, pdate)
        lay = write_sheet(wb, spec)
        wb.close()
        self._source(period, rel, lay, "tonghop_cks", None)
        first = lay["first_row"]
        for k, (name, _, _, _, defect, reason) in enumerate(bad):
            extra = {"value": name}
            if defect == "fuzzy_school":
                extra["candidate"] = self.code_of[(THCS, "Phúc Đồng")]
            self.planted.add(
                rel, "Sheet1", first + k, "tonghop_cks", defect, "quarantined", reason, **extra
            )

    # -- infrastructure and records ------------------------------------------------------

    def _ha_tang(self, period: str) -> None:
        pdate = date.fromisoformat(period)
        inf = self.world.infra.merge(
            self.world.schools[["school_code", "school_name", "order"]], on="school_code"
        ).sort_values("order")
        n = len(inf)
        rng = np.random.default_rng([self.seed, 300])
        numeric = rng.random(n) < 0.08
        codes = (
            inf["school_code"]
            .astype(object)
            .where(~numeric, inf["school_code"].astype(int).astype(object))
        )
        text_speed = rng.random(n) < 0.06
        speed = (
            inf["speed_mbps"]
            .astype(object)
            .where(~text_speed, inf["speed_mbps"].astype(str).astype(object))
        )
        cols = [
            Col("STT", list(range(1, n + 1)), width=6),
            Col("Mã trường", codes.tolist(), width=11),
            Col("Tên trường", inf["school_name"].tolist(), width=34),
            Col(
                "Số đường truyền",
                inf["n_fibre"].astype(int).tolist(),
                group="Đường truyền cáp quang",
            ),
            Col("Tốc độ (Mbps)", speed.tolist(), group="Đường truyền cáp quang"),
            Col("Số máy tính phục vụ quản lý", inf["n_computers"].astype(int).tolist()),
        ]
        spec = SheetSpec(
            "Hạ tầng CNTT",
            cols,
            titles=[
                "UBND QUẬN LONG BIÊN",
                "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
                "THỐNG KÊ HẠ TẦNG CÔNG NGHỆ THÔNG TIN CÁC TRƯỜNG",
                f"(Số liệu tính đến ngày {_dmy(pdate)})",
            ],
            total={2: "Tổng cộng", 3: int(inf["n_fibre"].sum()), 5: int(inf["n_computers"].sum())},
            footer=["Người lập biểu", FOOTER_NAMES[3]],
        )
        rel = self.rel(period, "HaTang_CNTT_LongBien_2024.xlsx")
        wb = new_workbook(self.out / rel, pdate)
        lay = write_sheet(wb, spec)
        wb.close()
        self._source(period, rel, lay, "ha_tang", None)
        first, sh, P = lay["first_row"], lay["sheet"], self.planted
        P.add(rel, sh, lay["title_rows"], "ha_tang", "title_rows", "skipped")
        P.add(rel, sh, lay["header_rows"][0], "ha_tang", "merged_header", "repaired")
        P.add(rel, sh, lay["total_row"], "ha_tang", "total_row", "skipped")
        P.add(rel, sh, lay["footer_rows"], "ha_tang", "footer", "skipped")
        P.add(
            rel,
            sh,
            first + np.flatnonzero(numeric),
            "ha_tang",
            "leading_zero_lost",
            "repaired",
            column="Mã trường",
        )
        P.add(
            rel,
            sh,
            first + np.flatnonzero(text_speed),
            "ha_tang",
            "text_number",
            "repaired",
            column="Đường truyền cáp quang / Tốc độ (Mbps)",
        )

    def _hoc_ba(self, period: str) -> None:
        pdate = date.fromisoformat(period)
        cl = self.world.classes
        n = len(cl)
        name = cl["school_code"].map(self.name_of)
        cols = [
            Col("STT", list(range(1, n + 1)), width=6),
            Col("Mã trường", cl["school_code"].tolist(), width=11),
            Col("Tên trường", name.tolist(), width=32),
            Col("Khối", cl["grade"].astype(int).tolist(), width=6),
            Col("Lớp", cl["class_name"].tolist(), width=8),
            Col("Số học sinh", cl["n_pupils"].astype(int).tolist(), width=10),
            Col("GVCN", cl["n_signed_teacher"].astype(int).tolist(), group="Số học bạ đã ký"),
            Col(
                "Hiệu trưởng",
                cl["n_signed_principal"].astype(int).tolist(),
                group="Số học bạ đã ký",
            ),
        ]
        spec = SheetSpec(
            "TienDo",
            cols,
            titles=[
                "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO QUẬN LONG BIÊN",
                "TIẾN ĐỘ KÝ SỐ HỌC BẠ CẤP TIỂU HỌC NĂM HỌC 2023-2024",
                f"(Số liệu tính đến ngày {_dmy(pdate)})",
            ],
            total={
                2: "Tổng cộng",
                5: int(cl["n_pupils"].sum()),
                6: int(cl["n_signed_teacher"].sum()),
                7: int(cl["n_signed_principal"].sum()),
            },
        )
        rel = self.rel(period, "TienDo_KySo_HocBa_TieuHoc.xlsx")
        wb = new_workbook(self.out / rel, pdate)
        lay = write_sheet(wb, spec)
        wb.close()
        self._source(period, rel, lay, "hoc_ba", TH)
        sh, P = lay["sheet"], self.planted
        P.add(rel, sh, lay["title_rows"], "hoc_ba", "title_rows", "skipped")
        P.add(rel, sh, lay["header_rows"][0], "hoc_ba", "merged_header", "repaired")
        P.add(rel, sh, lay["total_row"], "hoc_ba", "total_row", "skipped")
        # a school's supplementary row: principal signed more records than the teacher
        code = self.code_of[(TH, "Phúc Lợi")]
        g5 = cl[(cl["school_code"] == code) & (cl["grade"] == 5)]
        cls_name = f"5A{len(g5) + 1}"
        cols = [
            Col("Mã trường", [code]),
            Col("Tên trường", ["Trường Tiểu học Phúc Lợi"], width=28),
            Col("Khối", [5]),
            Col("Lớp", [cls_name]),
            Col("Số học sinh", [36]),
            Col("Số học bạ GVCN đã ký", [30], width=12),
            Col("Số học bạ Hiệu trưởng đã ký", [33], width=12),
        ]
        rel2 = self.rel(period, "HocBa_TH_PhucLoi_bo_sung.xlsx")
        wb = new_workbook(self.out / rel2, pdate)
        lay2 = write_sheet(wb, SheetSpec("Sheet1", cols))
        wb.close()
        self._source(period, rel2, lay2, "hoc_ba", TH)
        P.add(
            rel2,
            "Sheet1",
            lay2["first_row"],
            "hoc_ba",
            "principal_gt_teacher",
            "quarantined",
            "principal_gt_teacher",
            note=f"lớp {cls_name} không có trong danh sách lớp của "
            "trường; dòng bị từ chối nên không làm lệch tổng",
        )

    # -- output ----------------------------------------------------------------------------

    def _source(self, period, rel, lay, kind, level, **extra) -> None:
        self.files.append(rel)
        entry = {"period": period, "file": rel, "sheet": lay.get("sheet", ""), "kind": kind}
        entry["level"] = level
        entry.update(_slim(lay))
        entry.update(extra)
        self.planted.sources.append(entry)

    def _expected(self) -> tuple[dict, dict]:
        w = self.world
        s = w.schools
        p = w.persons
        counts_codes = {self.code_of[k] for k in COUNTS_ONLY}
        expected: dict = {}
        by_school: dict = {}
        for i, period in enumerate(PERIODS):
            st = status_at(p, i)
            act = st["active"].to_numpy()
            frame = pd.DataFrame(
                {
                    "code": p["school_code"],
                    "level": p["level"],
                    "n_staff": act,
                    "n_signed": act & st["signed"].to_numpy(),
                    "n_pending": act & st["pending"].to_numpy(),
                }
            )
            per = frame.groupby("code")[["n_staff", "n_signed", "n_pending"]].sum()
            per.loc[per.index.isin(counts_codes), "n_pending"] = 0
            by_school[period] = {
                c: {
                    "level": self.level_of[c],
                    "n_staff": int(r.n_staff),
                    "n_signed": int(r.n_signed),
                    "n_pending": int(r.n_pending),
                    "basis": "counts" if c in counts_codes else "list",
                }
                for c, r in per.sort_index().iterrows()
            }
            lv_stats = {}
            for level in LEVELS:
                sl = s[s["level"] == level]
                d = {
                    "n_schools": len(sl),
                    "n_classes": int(sl["n_classes"].sum()),
                    "n_pupils": int(sl["n_pupils"].sum()),
                    "n_pupils_with_id": int(sl["n_pupils_with_id"].sum()),
                    "n_pupils_verified": int(sl["n_pupils_verified"].sum()),
                }
                if level == MN:
                    d.update(n_staff=None, n_signed=None, n_pending=None)
                else:
                    codes = sl["school_code"]
                    sub = per.loc[per.index.isin(codes)]
                    d.update({k: int(sub[k].sum()) for k in ("n_staff", "n_signed", "n_pending")})
                    d["n_schools_reporting"] = int(len(sub))
                if i >= REF:
                    inf = w.infra[w.infra["level"] == level]
                    d["n_fibre"] = int(inf["n_fibre"].sum())
                    d["n_computers"] = int(inf["n_computers"].sum())
                    d["speed_min"] = int(inf["speed_mbps"].min())
                else:
                    d["n_fibre"] = d["n_computers"] = d["speed_min"] = None
                if i == len(PERIODS) - 1 and level == TH:
                    cl = w.classes
                    d["n_records"] = len(cl)
                    d["n_record_pupils"] = int(cl["n_pupils"].sum())
                    d["n_signed_teacher"] = int(cl["n_signed_teacher"].sum())
                    d["n_signed_principal"] = int(cl["n_signed_principal"].sum())
                else:
                    d["n_records"] = d["n_record_pupils"] = None
                    d["n_signed_teacher"] = d["n_signed_principal"] = None
                lv_stats[level] = d
            tot = {
                k: sum(lv_stats[lv][k] for lv in LEVELS)
                for k in (
                    "n_schools",
                    "n_classes",
                    "n_pupils",
                    "n_pupils_with_id",
                    "n_pupils_verified",
                )
            }
            for k in ("n_fibre", "n_computers"):
                tot[k] = sum(lv_stats[lv][k] for lv in LEVELS) if i >= REF else None
            lv_stats["Tổng cộng"] = tot
            expected[period] = lv_stats
        return expected, by_school

    def _personal_values(self) -> dict:
        p = self.world.persons
        take = p.iloc[:: max(1, len(p) // 600)]
        birth = pd.to_datetime(take["birth_date"])
        return {
            "note": "mẫu một phần (mỗi người thứ k) dữ liệu cá nhân giả có trong các file thô",
            "staff_id_is_not_personal": True,
            "full_name": sorted(set(take["full_name"])),
            "birth_date": sorted(
                set(birth.dt.strftime("%d/%m/%Y")) | set(birth.dt.strftime("%Y-%m-%d"))
            ),
            "id_number": sorted(set(take["id_number"])),
            "phone": sorted(set(take["phone"])),
            "email": sorted(set(take["email"])),
        }

    def _planted_json(self) -> dict:
        expected, by_school = self._expected()
        s = self.world.schools.sort_values("order")
        c = self.code_of
        rules = {
            "duplicate_person": "cùng Mã định danh hai lần trong một file, hai dòng giống hệt: "
            "tính một lần",
            "moved_person": "cùng Mã định danh trong file của hai trường (cùng cấp Tiểu học, đều "
            "Đang làm việc, cùng chữ ký số): tính một lần; tổng theo cấp học không phụ thuộc "
            "trường được chọn; theo thế giới mẫu người này thuộc trường "
            f"{c[MOVED_TO]} ({self.name_of[c[MOVED_TO]]})",
            "list_and_counts": "trường vừa có danh sách vừa có dòng tổng hợp: danh sách thắng, "
            "dòng tổng hợp superseded",
            "n_pending": "chỉ tính từ danh sách; trường chỉ gửi số tổng hợp có n_pending = 0",
            "refused_rows": "mọi dòng bị từ chối đều là dòng thêm vào, không thuộc tổng expected",
        }
        return {
            "sample": True,
            "label": paths.SAMPLE_LABEL,
            "seed": self.seed,
            "periods": list(PERIODS),
            "reference_period": PERIODS[REF],
            "district": "Long Biên",
            "rules": rules,
            "expected": expected,
            "expected_by_school": by_school,
            "schools": [
                {
                    "school_code": r.school_code,
                    "school_name": r.school_name,
                    "level": r.level,
                    "ownership": r.ownership,
                    "ward": r.ward,
                }
                for r in s.itertuples(index=False)
            ],
            "aliases": [{"alias": a, "school_code": c[k], "note": n} for a, k, n in ALIASES],
            "near_twins": [
                [c[(TH, "Thạch Bàn A")], c[(TH, "Thạch Bàn B")]],
                [c[(TH, "Ngọc Thụy A")], c[(TH, "Ngọc Thụy B")]],
                [c[(MN, "Long Biên A")], c[(MN, "Long Biên B")]],
            ],
            "files": sorted(set(self.files)),
            "sources": self.planted.sources,
            "counts_rows": self.planted.counts_rows,
            "defects": self.planted.defects,
            "personal_values": self._personal_values(),
        }


def _slim(lay: dict) -> dict:
    keys = ("header_rows", "first_row", "last_row", "total_row", "title_rows", "footer_rows")
    out = {k: lay[k] for k in keys if k in lay and lay[k] not in (None, [])}
    if "columns" in lay:
        out["columns"] = lay["columns"]
    return out


def generate(
    out_dir: Path | str = paths.RAW_DIR,
    seed: int = DEFAULT_SEED,
    planted_path: Path | str | None = None,
    reform: bool = True,
) -> dict:
    """Write the sample data set into ``out_dir`` and ``planted_path``; return the planted
    record (also written as JSON). ``reform`` adds the school year 2025-2026 (the periods
    after 1/7/2025, :mod:`analysis.sample_reform`) under the record's ``reform`` key; the
    2023-2024 files do not depend on it."""
    out = Path(out_dir)
    gen = _Generator(out, seed)
    planted = gen.run()
    if reform:
        planted["reform"] = write_reform(out, seed, gen.world)
        with open(out / paths.SAMPLE_MARK_FILE, "a", encoding="utf-8") as fh:
            fh.write(REFORM_NOTE)
    target = Path(planted_path) if planted_path else out.parent / PLANTED_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(planted, ensure_ascii=False, indent=1, sort_keys=False) + "\n",
        encoding="utf-8",
    )
    return planted


def _dir_size(root: Path, files: list[str]) -> int:
    return sum((root / f).stat().st_size for f in files if (root / f).is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m analysis sample",
        description="Sinh bộ dữ liệu mẫu (tổng hợp) quận Long Biên 2023-2024 và khu vực Long "
        "Biên năm học 2025-2026 (sau 1/7/2025) vào data/raw/.",
    )
    parser.add_argument(
        "--out", default=str(paths.RAW_DIR), help="thư mục đích (mặc định data/raw)"
    )
    parser.add_argument("--seed", type=int, default=None, help="hạt giống ngẫu nhiên")
    parser.add_argument("--planted", default=None, help="đường dẫn sample_planted.json")
    parser.add_argument(
        "--large",
        type=int,
        default=None,
        metavar="N",
        help="sinh bộ dữ liệu lớn N dòng CBGVNV (đo hiệu năng)",
    )
    parser.add_argument(
        "--province",
        default=None,
        metavar="DIR",
        help="sinh một tỉnh cỡ Hà Nội (126 xã, ~2.954 trường, ~140.000 CBGVNV) vào DIR "
        "(đo hiệu năng; không ghi vào data/raw)",
    )
    parser.add_argument(
        "--format",
        choices=("csv", "xlsx"),
        default=None,
        help="định dạng của bộ dữ liệu lớn (mặc định csv) hoặc của tỉnh (mặc định xlsx)",
    )
    parser.add_argument(
        "--no-reform",
        action="store_true",
        help="không sinh năm học 2025-2026 (các kỳ sau 1/7/2025)",
    )
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    out = Path(args.out)
    if args.seed is None and args.province is None:
        args.seed = DEFAULT_SEED
    if args.province is not None:
        target = Path(args.province).resolve()
        data = paths.DATA_DIR.resolve()
        if target == data or data in target.parents:
            print(
                f"--province không ghi vào {paths.DATA_DIR} (dữ liệu mẫu của dự án): chọn một "
                "thư mục khác, ví dụ /tmp/tinh_mau.",
                file=sys.stderr,
            )
            return 2
        seed = {} if args.seed is None else {"seed": args.seed}
        info = write_province(target, fmt=args.format or "xlsx", **seed)
        print(
            f"Đã sinh tỉnh mẫu vào {target}: {info['n_communes']} xã/phường, "
            f"{_vn_thousands(info['n_schools'])} trường ({info['n_multi_level']} trường nhiều "
            f"cấp học), {_vn_thousands(info['n_staff'])} CBGVNV, {len(info['files'])} file."
        )
        return 0
    if args.large is not None:
        if args.large <= 0:
            print("--large cần một số dòng dương, ví dụ --large 1660000", file=sys.stderr)
            return 2
        info = write_large(out, args.large, fmt=args.format or "csv", seed=args.seed)
        print(
            f"Đã sinh {info['n_staff']:,} dòng CBGVNV, {info['n_schools']:,} trường, "
            f"{info['n_districts']} quận/huyện vào {out} ({len(info['files'])} file)."
        )
        return 0
    planted = generate(out, args.seed, args.planted, reform=not args.no_reform)
    files = planted["files"] + planted.get("reform", {}).get("files", [])
    size = _dir_size(out, files) / 1e6
    print(
        f"Đã sinh dữ liệu mẫu vào {out}: {len(files)} file ({size:.1f} MB), "
        f"{len(planted['defects'])} lỗi cài sẵn."
    )
    ref = planted["expected"][PERIODS[REF]][TH]
    print(f"Kỳ {PERIODS[REF]}, Tiểu học: {ref['n_signed']}/{ref['n_staff']} CBGVNV có chữ ký số.")
    if "reform" in planted:
        last = planted["reform"]["periods"][-1]
        tot = planted["reform"]["expected"][last]["Tổng cộng"]
        print(
            f"Năm học 2025-2026 (kỳ {', '.join(planted['reform']['periods'])}): "
            f"{tot['n_schools']} trường, kỳ {last}: {tot['n_signed']}/{tot['n_staff']} "
            "CBGVNV có chữ ký số."
        )
        c = planted["reform"].get("certs")
        if c:
            e = c["expected"].values()
            print(
                f"Kỳ {c['period']} (chữ ký số theo danh sách thuê bao của nhà cung cấp): "
                f"{sum(x['n_signed'] for x in e)}/{sum(x['n_staff'] for x in e)} CBGVNV có "
                f"chữ ký số, {c['institutions']['ready']} trường có chữ ký số tổ chức."
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
