"""The 2023-2024 Long Biên district data set as the district office receives it: the school
list, the district staff exports per level (with planted duplicates, refused rows and messy
cells), the per-school counts forms, the IT infrastructure and the record-signing progress.
:func:`staff_rows` gives the people a list shows; :class:`DistrictFiles` writes the files
(a mixin of the generator)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analysis.core.vocab import TH, THCS
from analysis.sample.cast import (
    ALIAS_IN_COUNTS,
    ALIAS_IN_LIST,
    BAD_STATUS,
    FOOTER_NAMES,
    FUZZY_COUNTS_NAME,
    FUZZY_STAFF_NAME,
    LIST_AND_COUNTS_SCHOOL,
    MOVED_TO,
    OLD_TONE_SCHOOL,
    RATE_MISMATCH_SCHOOL,
    UNKNOWN_COUNTS_NAME,
    UNKNOWN_STAFF_NAME,
)
from analysis.sample.planted import Planted, counts_row, slim
from analysis.sample.text import (
    dmy,
    listify,
    mixed_dates,
    rate_text,
    vn_thousands,
    ymd,
)
from analysis.sample.world import (
    ACTIVE,
    PERIOD_DATES,
    PERIODS,
    POSITIONS,
    PROVIDERS,
    SIG_WORDS,
    World,
    excel_serial,
    status_at,
)
from analysis.sample.xlsx import (
    Col,
    SheetSpec,
    new_workbook,
    write_lookup_sheet,
    write_sheet,
)


def staff_rows(world: World, period: int, codes: list[str]) -> pd.DataFrame:
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
    from analysis.sample.world import personal

    df = pd.DataFrame({"school_code": code, "level": level}, index=range(n))
    df["position"] = "Giáo viên"
    df["role"] = "GV"
    pers = personal(df, rng)
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


_LAYOUT_KEY = {"title_rows": "title_rows", "total_row": "total_row", "footer": "footer_rows"}
_COUNTS_ENTRIES = (  # (level, short name), the name as the counts form writes it
    (LIST_AND_COUNTS_SCHOOL, "Trường Tiểu học Ái Mộ"),
    (RATE_MISMATCH_SCHOOL, "TH Gia Thượng"),
    ((TH, "Ngọc Thụy A"), "Tiểu học Ngọc Thụy A"),
    ((TH, "Lý Thường Kiệt"), "Trường TH Lý Thường Kiệt"),
    (ALIAS_IN_COUNTS[1], ALIAS_IN_COUNTS[0]),
    ((THCS, "Cự Khối"), "Trường THCS Cự Khối"),
)
_LIST_AND_COUNTS_NOTE = (
    "trường gửi cả danh sách (file CSDL cấp Tiểu học) và số tổng hợp; "
    "danh sách được dùng, số tổng hợp lệch một chút"
)


def _code_cells(codes: pd.Series, numeric: np.ndarray) -> pd.Series:
    """School codes as written: a number (its leading zero lost) where ``numeric`` holds."""
    return codes.astype(object).where(~numeric, codes.astype(int).astype(object))


def _truong_spec(s: pd.DataFrame, codes: pd.Series, level_w: pd.Series, pupils_w) -> SheetSpec:
    """The school list sheet of 2023-2024 (one row a school, in district order)."""
    n = len(s)
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
        8: vn_thousands(int(s["n_pupils"].to_numpy().sum())),
        9: int(s["n_pupils_with_id"].sum()),
        10: int(s["n_pupils_verified"].sum()),
    }
    return SheetSpec(
        "Danh sách trường",
        cols,
        titles=[
            "UBND QUẬN LONG BIÊN",
            "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
            "DANH SÁCH TRƯỜNG NĂM HỌC 2023-2024",
            f"(Số liệu tính đến ngày {dmy(PERIOD_DATES[0])})",
        ],
        total=total,
        footer=["Long Biên, ngày 15 tháng 12 năm 2023", "Người lập biểu", FOOTER_NAMES[0]],
    )


def _export_columns(rows: pd.DataFrame, level: str, c: dict) -> list[Col]:
    """The columns of a district staff export (THCS adds the school code)."""
    cols = [
        Col("STT", c["stt"].tolist(), width=6),
        Col("Mã định danh", listify(rows["staff_id"].replace("", None)), width=13),
        Col("Họ và tên", c["names"].tolist(), width=24),
        Col("Ngày sinh", c["birth"], kind="date", width=11),
        Col("Số CCCD", rows["id_number"].tolist(), width=14),
        Col("Số điện thoại", rows["phone"].tolist(), width=12),
        Col("Email", rows["email"].tolist(), width=26),
        Col("Chức vụ", rows["position"].tolist(), width=18),
    ]
    if level == THCS:
        cols.append(Col("Mã trường", c["code_w"].tolist(), width=11))
    return cols + [
        Col("Tên trường", c["school_w"].tolist(), width=30),
        Col("Trạng thái CB", c["emp_w"].tolist(), width=14),
        Col("Trạng thái", c["status_w"].tolist(), group="Chữ ký số", width=13),
        Col("Nhà cung cấp", listify(rows["provider_w"].replace("", None)), group="Chữ ký số"),
        Col("Ngày cấp", c["issued"], group="Chữ ký số", kind="date", width=11),
        Col("Ngày hết hạn", c["expires"], group="Chữ ký số", kind="date", width=11),
    ]


class _ExportPlant:
    """Plants rows of one district staff export: :meth:`add` the rows where a mask holds."""

    def __init__(self, planted: Planted, rel: str, sheet: str, first: int, rows) -> None:
        self.planted, self.rel, self.sheet, self.first = planted, rel, sheet, first
        self.rows = rows
        self.extra = rows["extra"].to_numpy()

    def rows_of(self, mask) -> np.ndarray:
        return self.first + np.flatnonzero(mask)

    def add(self, mask, defect: str, expected: str, reason: str | None = None, **kw) -> None:
        rows = self.rows_of(mask)
        self.planted.add(self.rel, self.sheet, rows, "cbgvnv", defect, expected, reason, **kw)


def _plant_export_common(plant: _ExportPlant, cells: dict) -> None:
    """The planted rows of both exports: staff who left, pending signatures, serial and text
    dates, blank employment statuses."""
    real = plant.extra == ""
    active = plant.rows["active"].to_numpy()
    pending = (plant.rows["sig"] == "pending").to_numpy()
    note = "Trạng thái CB khác 'Đang làm việc': không tính vào tổng số"
    plant.add(real & ~active, "left_staff", "skipped", note=note)
    note = "Đang đăng ký: tính là chưa có, báo cáo riêng (n_pending)"
    plant.add(real & pending & active, "pending", "skipped", note=note)
    column = "Chữ ký số / Ngày cấp"
    serial = plant.first + cells["serial_rows"]
    plant.planted.add(
        plant.rel, plant.sheet, serial, "cbgvnv", "serial_date", "repaired", column=column
    )
    plant.add(cells["issued_text"], "text_date", "repaired", column=column)
    note = "Trạng thái CB trống: tính là đang làm việc"
    plant.add(cells["blank_emp"], "blank_status", "repaired", column="Trạng thái CB", note=note)


def _active_signed(persons: pd.DataFrame, i: int) -> pd.DataFrame:
    """Per school at period ``i``: the active staff (``a``) and those signed (``s``)."""
    st = status_at(persons, i)
    act = st["active"].to_numpy()
    sig = act & st["signed"].to_numpy()
    frame = pd.DataFrame({"code": persons["school_code"], "a": act, "s": sig})
    return frame.groupby("code")[["a", "s"]].sum()


def _counts_rate(k: int, key, n_signed: int, n_staff: int):
    """The rate as the counts form writes it: text or number by turns, off by 3,4 points
    for the rate-mismatch school (a warning, not a refusal)."""
    rate = 100 * n_signed / n_staff
    if key == RATE_MISMATCH_SCHOOL:
        off = -3.4 if rate >= 50 else 3.4
        return f"{rate + off:.1f}".replace(".", ",") + "%"
    if k % 2 == 0:
        return rate_text(n_signed, n_staff)
    return round(rate, 1)


def _counts_spec(entries: list, pdate: date) -> SheetSpec:
    """The per-school counts sheet, one row an entry, and its total row."""
    names = [e[2] for e in entries]
    totals = [e[3] for e in entries]
    signed = [e[4] for e in entries]
    cols = [
        Col("STT", list(range(1, len(names) + 1)), width=6),
        Col("Tên trường", names, width=32),
        Col("Tổng số CBGVNV", totals, width=12),
        Col("Số CBGVNV đã có chữ ký số", signed, width=14),
        Col("Tỷ lệ (%)", [e[5] for e in entries], width=10),
    ]
    tot_staff, tot_signed = sum(totals), sum(signed)
    return SheetSpec(
        "Phụ lục",
        cols,
        titles=[
            "PHỤ LỤC",
            "TỔNG HỢP SỐ CBGVNV ĐÃ CÓ CHỮ KÝ SỐ CÁ NHÂN",
            f"(Số liệu tính đến ngày {pdate.day}/{pdate.month}/{pdate.year})",
        ],
        total={1: "Tổng cộng", 2: tot_staff, 3: tot_signed, 4: rate_text(tot_signed, tot_staff)},
    )


def infra_columns(inf: pd.DataFrame, codes, speed) -> tuple[list[Col], dict]:
    """The columns and total row of an IT infrastructure sheet (one row a school), with the
    school codes and speeds as written (2023-2024 and 2025-2026 alike)."""
    cols = [
        Col("STT", list(range(1, len(inf) + 1)), width=6),
        Col("Mã trường", codes.tolist(), width=11),
        Col("Tên trường", inf["school_name"].tolist(), width=34),
        Col("Số đường truyền", inf["n_fibre"].astype(int).tolist(), group="Đường truyền cáp quang"),
        Col("Tốc độ (Mbps)", speed.tolist(), group="Đường truyền cáp quang"),
        Col("Số máy tính phục vụ quản lý", inf["n_computers"].astype(int).tolist()),
    ]
    total = {2: "Tổng cộng", 3: int(inf["n_fibre"].sum()), 5: int(inf["n_computers"].sum())}
    return cols, total


def record_columns(cl: pd.DataFrame, names: pd.Series, levels=None) -> tuple[list[Col], dict]:
    """The columns and total row of a record-signing progress sheet (one row a class);
    ``levels`` adds a 'Cấp học' column after the school name (2025-2026)."""
    cols = [
        Col("STT", list(range(1, len(cl) + 1)), width=6),
        Col("Mã trường", cl["school_code"].tolist(), width=11),
        Col("Tên trường", names.tolist(), width=32),
    ]
    if levels is not None:
        cols.append(Col("Cấp học", levels.tolist(), width=10))
    k = len(cols)
    cols += [
        Col("Khối", cl["grade"].astype(int).tolist(), width=6),
        Col("Lớp", cl["class_name"].tolist(), width=8),
        Col("Số học sinh", cl["n_pupils"].astype(int).tolist(), width=10),
        Col("GVCN", cl["n_signed_teacher"].astype(int).tolist(), group="Số học bạ đã ký"),
        Col("Hiệu trưởng", cl["n_signed_principal"].astype(int).tolist(), group="Số học bạ đã ký"),
    ]
    total = {
        2: "Tổng cộng",
        k + 2: int(cl["n_pupils"].sum()),
        k + 3: int(cl["n_signed_teacher"].sum()),
        k + 4: int(cl["n_signed_principal"].sum()),
    }
    return cols, total


class DistrictFiles:
    """The district's own exports (a mixin of the generator: uses its world, seed, rng, out,
    planted record, school maps and :meth:`_write_sheet`, :meth:`_source`, :meth:`_staff`)."""

    def _plant_layout(self, rel: str, lay: dict, kind: str, parts: tuple[str, ...]) -> None:
        """Plant the layout rows ``parts`` of a written sheet, in that order: 'title_rows',
        'merged_header', 'total_row', 'footer'."""
        sh = lay["sheet"]
        for part in parts:
            if part == "merged_header":
                self.planted.add(rel, sh, lay["header_rows"][0], kind, part, "repaired")
            else:
                self.planted.add(rel, sh, lay[_LAYOUT_KEY[part]], kind, part, "skipped")

    def _plant_cells(self, rel: str, lay: dict, kind: str, cells) -> None:
        """Plant repaired cells: ``cells`` holds (data row positions, defect, column)."""
        first, sh = lay["first_row"], lay["sheet"]
        for pos, defect, column in cells:
            self.planted.add(rel, sh, first + pos, kind, defect, "repaired", column=column)

    # -- truong ----------------------------------------------------------------------------

    def _truong(self, period: str) -> None:
        s = self.world.schools.sort_values("order")
        n = len(s)
        rng = self.rng
        rel = self.rel(period, "DanhSachTruong_LongBien_NH2023-2024.xlsx")
        numeric_code = rng.random(n) < 0.1
        level_w = s["level"].astype(object).copy()
        tcs = np.flatnonzero((s["level"] == THCS).to_numpy())
        level_w.iloc[tcs[::5]] = "Trung học cơ sở"
        pupils = s["n_pupils"].to_numpy()
        text_num = (pupils >= 1000) & (rng.random(n) < 0.5)
        pupils_w = pd.Series(pupils.tolist(), dtype=object)
        pupils_w[text_num] = pd.Series(pupils[text_num]).map(vn_thousands).to_numpy()
        spec = _truong_spec(s, _code_cells(s["school_code"], numeric_code), level_w, pupils_w)
        lay = self._write_sheet(period, PERIOD_DATES[0], rel, spec, "truong", None)
        self._plant_layout(rel, lay, "truong", ("title_rows", "total_row", "footer"))
        cells = [
            (np.flatnonzero(numeric_code), "leading_zero_lost", "Mã trường"),
            (np.flatnonzero(text_num), "text_number", "Số học sinh"),
            (tcs[::5], "level_alias", "Cấp học"),
        ]
        self._plant_cells(rel, lay, "truong", cells)

    # -- staff lists -----------------------------------------------------------------------

    def _district_export(self, i: int, level: str) -> None:
        """The district's staff export of one level at period ``i``: the listed people with
        planted extra rows, messy cells and a lookup sheet."""
        rng = np.random.default_rng([self.seed, 100 + i, 1 if level == TH else 2])
        rows = self._staff(i, self.list_codes[level])
        base_n = len(rows)
        rows = self._with_extra_rows(rows, level, rng)
        assert len(rows) == base_n + (5 if level == TH else 2)
        cells = self._export_cells(rows, level, rng)
        rel, lay = self._write_export(i, level, _export_columns(rows, level, cells), cells)
        plant = _ExportPlant(self.planted, rel, lay["sheet"], lay["first_row"], rows)
        if level == TH:
            self._plant_export_th(plant, cells)
        else:
            self._plant_export_thcs(plant)
        _plant_export_common(plant, cells)

    def _with_extra_rows(self, rows: pd.DataFrame, level: str, rng) -> pd.DataFrame:
        """The planted extra rows: a duplicated person and four refused rows (primary), two
        refused rows (THCS), each after the last row of an anchor school."""
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
        else:
            anchor_code = self.code_of[(THCS, "Sài Đồng")]
            ex = _extra_people(self.world, 2, THCS, anchor_code, rng)
            ex["extra"] = ["bad_status", "unknown_school"]
        return _insert_after(rows, ex, _last_row_of(rows, anchor_code))

    def _school_cells(self, rows: pd.DataFrame, level: str) -> tuple[pd.Series, pd.Series | None]:
        """The school names as written (and, for THCS, the school codes as written)."""
        if level == TH:
            school_w = rows["school_code"].map(self.th_forms).astype(object)
            school_w[(rows["extra"] == "fuzzy_school").to_numpy()] = FUZZY_STAFF_NAME
            return school_w, None
        forms = {}
        for k, c in enumerate(self.list_codes[level]):
            short = self.name_of[c].removeprefix("Trường THCS ")
            forms[c] = (f"Trường THCS {short}", f"THCS {short}", f"Trung học cơ sở {short}")[k % 3]
        school_w = rows["school_code"].map(forms).astype(object)
        unk = (rows["extra"] == "unknown_school").to_numpy()
        school_w[unk] = UNKNOWN_STAFF_NAME
        code_w = rows["school_code"].astype(object)
        numeric = rows["school_code"].isin(self.numeric_code_thcs).to_numpy() & ~unk
        code_w[numeric] = rows.loc[numeric, "school_code"].astype(int)
        code_w[unk] = None
        return school_w, code_w

    def _export_cells(self, rows: pd.DataFrame, level: str, rng) -> dict:
        """The export's cells as written, with the masks of the planted messy cells (the random
        draws in a fixed order: zero-width statuses, blank statuses, double spaces, dates)."""
        n = len(rows)
        is_dup = (rows["extra"] == "duplicate_person").to_numpy()
        # the duplicated row and its original carry no random mess, so they stay identical
        plain = ~(is_dup | np.roll(is_dup, -1)) & (rows["extra"] == "").to_numpy()
        c = {"is_dup": is_dup, "stt": np.cumsum(~is_dup)}
        c["school_w"], c["code_w"] = self._school_cells(rows, level)
        status_w = rows["sig"].map(SIG_WORDS)
        status_w = status_w.astype(object)
        status_w[(rows["extra"] == "bad_status").to_numpy()] = BAD_STATUS
        signed_rows = np.flatnonzero((rows["sig"] == "yes").to_numpy() & plain)
        c["zw"] = rng.choice(signed_rows, size=2, replace=False) if level == TH else []
        for r in c["zw"]:  # a handful of planted cells
            status_w.iloc[r] = "Đã cấp\u200b"
        c["status_w"] = status_w
        emp_w = rows["emp_status"].astype(object)
        c["blank_emp"] = (rng.random(n) < 0.02) & (emp_w == ACTIVE).to_numpy() & plain
        emp_w[c["blank_emp"]] = None
        c["emp_w"] = emp_w
        names = rows["full_name"].astype(object)
        dbl = (rng.random(n) < 0.01) & names.notna().to_numpy() & plain
        names[dbl] = names[dbl].str.replace(" ", "  ", n=1)
        c["names"] = names
        c["birth"], _ = mixed_dates(rows["birth_date"], 0.1, rng, plain)
        c["issued"], c["issued_text"] = mixed_dates(rows["issued_w"], 0.08, rng, plain)
        c["expires"], _ = mixed_dates(rows["expires_w"], 0.08, rng, plain)
        cands = np.flatnonzero(~c["issued_text"] & rows["issued_w"].notna().to_numpy() & plain)
        c["serial_rows"] = np.sort(rng.choice(cands, size=3, replace=False))
        return c

    def _write_export(self, i: int, level: str, cols: list, cells: dict) -> tuple[str, dict]:
        """Write the export (its list sheet and the lookup sheet), record both and plant their
        layout rows: the file and the list sheet's layout."""
        period, pdate = PERIODS[i], PERIOD_DATES[i]
        c_issued = len(cols) - 2
        serial = [
            (int(r), c_issued, excel_serial(cells["issued"][r])) for r in cells["serial_rows"]
        ]
        lvl_title = "CẤP TIỂU HỌC" if level == TH else "CẤP TRUNG HỌC CƠ SỞ"
        spec = SheetSpec(
            "DanhSachCBGVNV",
            cols,
            titles=[
                "UBND QUẬN LONG BIÊN",
                "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
                f"DANH SÁCH CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN {lvl_title}",
                f"(Số liệu tính đến ngày {dmy(pdate)})",
            ],
            footer=[
                f"Long Biên, ngày {pdate.day} tháng {pdate.month} năm {pdate.year}",
                "Người lập biểu",
                FOOTER_NAMES[1 if level == TH else 2],
            ],
            serial_cells=serial,
        )
        tag = "TieuHoc" if level == TH else "THCS"
        rel = self.rel(period, f"CSDL_CBGVNV_{tag}_{ymd(period)}.xlsx")
        wb = new_workbook(self.out / rel, pdate)
        lay = write_sheet(wb, spec)
        lookup = [("Chức vụ", p) for p in POSITIONS] + [("Nhà cung cấp", p) for p in PROVIDERS]
        lay2 = write_lookup_sheet(wb, "DanhMuc", lookup)
        wb.close()
        self._source(period, rel, lay, "cbgvnv", level)
        P, sh = self.planted, lay["sheet"]
        P.add(rel, sh, lay["title_rows"], "cbgvnv", "title_rows", "skipped")
        note = "'Chữ ký số' gộp trên 4 cột: Trạng thái, Nhà cung cấp, Ngày cấp, Ngày hết hạn"
        P.add(rel, sh, lay["header_rows"][0], "cbgvnv", "merged_header", "repaired", note=note)
        P.add(rel, sh, lay["footer_rows"], "cbgvnv", "footer", "skipped")
        P.add(rel, "DanhMuc", 1, "", "lookup_sheet", "skipped")
        P.sources.append(
            {"period": period, "file": rel, "sheet": "DanhMuc", "kind": None, **slim(lay2)}
        )
        return rel, lay

    def _plant_export_th(self, plant: _ExportPlant, cells: dict) -> None:
        """The primary export's own planted rows: the duplicate, the refused rows, the moved
        person, the zero-width statuses and the written forms of a few school names."""
        ex, rows, add = plant.extra, plant.rows, plant.add
        dup = plant.rows_of(cells["is_dup"])
        note = "dòng giống hệt dòng ngay trên (cùng Mã định danh): chỉ tính một lần"
        add(
            cells["is_dup"],
            "duplicate_person",
            "counted_once",
            note=note,
            staff_row=int(dup[0] - 1),
        )
        for defect in ("expiry_before_issue", "missing_id"):
            add(ex == defect, defect, "quarantined", defect)
        fuzzy = {"candidate": self.code_of[(TH, "Đô thị Việt Hưng")], "value": FUZZY_STAFF_NAME}
        add(ex == "fuzzy_school", "fuzzy_school", "quarantined", "fuzzy_school", **fuzzy)
        note = "người này cũng có trong file của trường cũ (Vũ Xuân Thiều)"
        moved = rows["staff_id"].to_numpy() == self.moved_id
        add(moved, "moved_person", "counted_once", note=note)
        zw = np.isin(np.arange(len(rows)), cells["zw"])
        add(zw, "zero_width", "repaired", column="Chữ ký số / Trạng thái")
        for key, defect in (
            (ALIAS_IN_LIST[1], "alias_school"),
            (OLD_TONE_SCHOOL, "old_tone"),
            (MOVED_TO, "nbsp"),
            ((TH, "Ngọc Lâm"), "double_space"),
            ((TH, "Phúc Đồng"), "zero_width"),
        ):
            code = self.code_of[key]
            m = (rows["school_code"] == code).to_numpy() & (ex == "")
            add(m, defect, "repaired", column="Tên trường", school_code=code)

    def _plant_export_thcs(self, plant: _ExportPlant) -> None:
        """The THCS export's own planted rows: the refused rows and the codes lost their zero."""
        ex, add = plant.extra, plant.add
        add(ex == "bad_status", "bad_status", "quarantined", "bad_status", value=BAD_STATUS)
        unknown = {"value": UNKNOWN_STAFF_NAME}
        add(ex == "unknown_school", "unknown_school", "quarantined", "unmatched_school", **unknown)
        m = plant.rows["school_code"].isin(self.numeric_code_thcs).to_numpy() & (ex == "")
        add(m, "leading_zero_lost", "repaired", column="Mã trường")

    # -- per-school counts -----------------------------------------------------------------

    def _counts(self, i: int) -> None:
        """The per-school counts form of period ``i`` (schools that send no list, one that
        sends both, a rate off by 3,4 points, an old name), then the refused supplement."""
        period, pdate = PERIODS[i], PERIOD_DATES[i]
        per_school = _active_signed(self.world.persons, i)
        entries = []  # (code, key, written name, n_staff, n_signed, rate as written, superseded)
        for k, (key, written) in enumerate(_COUNTS_ENTRIES):
            code = self.code_of[key]
            n_staff, n_signed = (int(v) for v in per_school.loc[code, ["a", "s"]])
            superseded = key == LIST_AND_COUNTS_SCHOOL
            if superseded:  # the school's own count differs a little from its list
                n_staff, n_signed = n_staff + 1, max(0, n_signed - 2)
            rate_w = _counts_rate(k, key, n_signed, n_staff)
            entries.append((code, key, written, n_staff, n_signed, rate_w, superseded))
        rel = self.rel(period, f"TongHop_CKS_cac_truong_{ymd(period)}.xlsx")
        lay = self._write_sheet(
            period, pdate, rel, _counts_spec(entries, pdate), "tonghop_cks", None
        )
        self._plant_counts(period, rel, lay, entries)
        self._counts_refused(i)

    def _plant_counts(self, period: str, rel: str, lay: dict, entries: list) -> None:
        """The counts rows as written, and the planted rows of the counts form."""
        first, sh, P = lay["first_row"], lay["sheet"], self.planted
        for k, (code, key, _, n_staff, n_signed, rate_w, superseded) in enumerate(entries):
            at = (period, rel, sh, first + k)
            P.counts_rows.append(counts_row(*at, code, key[0], n_staff, n_signed, superseded))
            at = (rel, sh, first + k, "tonghop_cks")
            if superseded:
                P.add(
                    *at, "list_and_counts", "warning", note=_LIST_AND_COUNTS_NOTE, school_code=code
                )
            if key == RATE_MISMATCH_SCHOOL:
                P.add(*at, "rate_mismatch", "warning", value=rate_w, school_code=code)
            if key == ALIAS_IN_COUNTS[1]:
                P.add(*at, "alias_school", "repaired", value=ALIAS_IN_COUNTS[0], school_code=code)
        P.add(rel, sh, lay["title_rows"], "tonghop_cks", "title_rows", "skipped")
        note = "dòng Tổng cộng = tổng các dòng dữ liệu của sheet"
        P.add(rel, sh, lay["total_row"], "tonghop_cks", "total_row", "skipped", note=note)

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
        rel = self.rel(period, f"TongHop_CKS_bo_sung_{ymd(period)}.xlsx")
        lay = self._write_sheet(period, pdate, rel, spec, "tonghop_cks", None)
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
        """The IT infrastructure of every school (codes that lost their zero, text speeds)."""
        pdate = date.fromisoformat(period)
        inf = self.world.infra.merge(
            self.world.schools[["school_code", "school_name", "order"]], on="school_code"
        ).sort_values("order")
        n = len(inf)
        rng = np.random.default_rng([self.seed, 300])
        numeric = rng.random(n) < 0.08
        text_speed = rng.random(n) < 0.06
        speed = (
            inf["speed_mbps"]
            .astype(object)
            .where(~text_speed, inf["speed_mbps"].astype(str).astype(object))
        )
        cols, total = infra_columns(inf, _code_cells(inf["school_code"], numeric), speed)
        spec = SheetSpec(
            "Hạ tầng CNTT",
            cols,
            titles=[
                "UBND QUẬN LONG BIÊN",
                "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO",
                "THỐNG KÊ HẠ TẦNG CÔNG NGHỆ THÔNG TIN CÁC TRƯỜNG",
                f"(Số liệu tính đến ngày {dmy(pdate)})",
            ],
            total=total,
            footer=["Người lập biểu", FOOTER_NAMES[3]],
        )
        rel = self.rel(period, "HaTang_CNTT_LongBien_2024.xlsx")
        lay = self._write_sheet(period, pdate, rel, spec, "ha_tang", None)
        parts = ("title_rows", "merged_header", "total_row", "footer")
        self._plant_layout(rel, lay, "ha_tang", parts)
        cells = [
            (np.flatnonzero(numeric), "leading_zero_lost", "Mã trường"),
            (np.flatnonzero(text_speed), "text_number", "Đường truyền cáp quang / Tốc độ (Mbps)"),
        ]
        self._plant_cells(rel, lay, "ha_tang", cells)

    def _hoc_ba(self, period: str) -> None:
        """The record-signing progress of the primary classes, and a refused supplement."""
        pdate = date.fromisoformat(period)
        cl = self.world.classes
        cols, total = record_columns(cl, cl["school_code"].map(self.name_of))
        spec = SheetSpec(
            "TienDo",
            cols,
            titles=[
                "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO QUẬN LONG BIÊN",
                "TIẾN ĐỘ KÝ SỐ HỌC BẠ CẤP TIỂU HỌC NĂM HỌC 2023-2024",
                f"(Số liệu tính đến ngày {dmy(pdate)})",
            ],
            total=total,
        )
        rel = self.rel(period, "TienDo_KySo_HocBa_TieuHoc.xlsx")
        lay = self._write_sheet(period, pdate, rel, spec, "hoc_ba", TH)
        self._plant_layout(rel, lay, "hoc_ba", ("title_rows", "merged_header", "total_row"))
        self._hoc_ba_refused(period, pdate)

    def _hoc_ba_refused(self, period: str, pdate: date) -> None:
        """A school's supplementary row: principal signed more records than the teacher."""
        cl = self.world.classes
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
        rel = self.rel(period, "HocBa_TH_PhucLoi_bo_sung.xlsx")
        lay = self._write_sheet(period, pdate, rel, SheetSpec("Sheet1", cols), "hoc_ba", TH)
        self.planted.add(
            rel,
            "Sheet1",
            lay["first_row"],
            "hoc_ba",
            "principal_gt_teacher",
            "quarantined",
            "principal_gt_teacher",
            note=f"lớp {cls_name} không có trong danh sách lớp của "
            "trường; dòng bị từ chối nên không làm lệch tổng",
        )
