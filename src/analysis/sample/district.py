"""The 2023-2024 Long Biên district data set as the district office receives it: the school
list, the district staff exports per level (with planted duplicates, refused rows and messy
cells), the per-school counts forms, the IT infrastructure and the record-signing progress.
:func:`staff_rows` gives the people a list shows; :class:`DistrictFiles` writes the files
(a mixin of the generator)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analysis.sample.cast import (
    ACTIVE,
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
from analysis.sample.planted import slim
from analysis.sample.text import (
    dmy,
    listify,
    mixed_dates,
    rate_text,
    vn_thousands,
    ymd,
)
from analysis.sample.world import (
    PERIOD_DATES,
    PERIODS,
    POSITIONS,
    PROVIDERS,
    TH,
    THCS,
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


class DistrictFiles:
    """The district's own exports (a mixin of the generator)."""

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
        pupils_w[text_num] = pd.Series(pupils[text_num]).map(vn_thousands).to_numpy()
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
            8: vn_thousands(int(pupils.sum())),
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
                f"(Số liệu tính đến ngày {dmy(PERIOD_DATES[0])})",
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
        birth, _ = mixed_dates(rows["birth_date"], 0.1, rng, plain)
        issued, issued_text = mixed_dates(rows["issued_w"], 0.08, rng, plain)
        expires, _ = mixed_dates(rows["expires_w"], 0.08, rng, plain)
        cands = np.flatnonzero(~issued_text & rows["issued_w"].notna().to_numpy() & plain)
        serial_rows = np.sort(rng.choice(cands, size=3, replace=False))
        cols = [
            Col("STT", stt.tolist(), width=6),
            Col("Mã định danh", listify(rows["staff_id"].replace("", None)), width=13),
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
            Col("Nhà cung cấp", listify(rows["provider_w"].replace("", None)), group="Chữ ký số"),
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
                f"(Số liệu tính đến ngày {dmy(pdate)})",
            ],
            footer=[
                f"Long Biên, ngày {pdate.day} tháng {pdate.month} năm {pdate.year}",
                "Người lập biểu",
                FOOTER_NAMES[1 if level == TH else 2],
            ],
            serial_cells=serial_cells,
        )
        tag = "TieuHoc" if level == TH else "THCS"
        rel = self.rel(period, f"CSDL_CBGVNV_{tag}_{ymd(period)}.xlsx")
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
            {"period": period, "file": rel, "sheet": "DanhMuc", "kind": None, **slim(lay2)}
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
                rate_w = rate_text(n_signed, n_staff)
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
                4: rate_text(tot_signed, tot_staff),
            },
        )
        rel = self.rel(period, f"TongHop_CKS_cac_truong_{ymd(period)}.xlsx")
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
        rel = self.rel(period, f"TongHop_CKS_bo_sung_{ymd(period)}.xlsx")
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
                f"(Số liệu tính đến ngày {dmy(pdate)})",
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
                f"(Số liệu tính đến ngày {dmy(pdate)})",
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
