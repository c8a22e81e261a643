"""The schools' own deliberately messy files: legacy-font xlsx (TCVN3, VNI), a Windows-1258
CSV with ';', a UTF-8-with-BOM CSV with other headers, an xlsx all in NFD.
:class:`MessyFiles` writes them (a mixin of the generator)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.core.vocab import TH, THCS
from analysis.sample.cast import (
    BOM_SCHOOL,
    CP1258_SCHOOL,
    MOVED_TO,
    NFD_SCHOOL,
    TCVN3_SCHOOL,
    VNI_SCHOOL,
)
from analysis.sample.text import (
    dmy,
    dmy_nozero,
    listify,
    map_unique,
    mixed_dates,
    nfd,
    py_dates,
    text_dates,
)
from analysis.sample.world import (
    PERIOD_DATES,
    PERIODS,
    SIG_WORDS,
)
from analysis.sample.xlsx import (
    Col,
    SheetSpec,
    write_csv,
)


class MessyFiles:
    """The schools' own files in legacy encodings and forms (a mixin of the generator)."""

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
            vocab = SIG_WORDS

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
            return listify(map_unique(s.replace("", None), encode))

        cols = [
            Col("STT", list(range(1, len(rows) + 1)), width=6),
            Col(encode("Mã định danh"), rows["staff_id"].tolist(), width=13),
            Col(encode("Họ và tên"), enc_col(rows["full_name"]), width=24),
            Col(encode("Ngày sinh"), listify(text_dates(rows["birth_date"], "%d/%m/%Y"))),
            Col(encode("Số CCCD"), rows["id_number"].tolist(), width=14),
            Col(encode("Số điện thoại"), rows["phone"].tolist(), width=12),
            Col(encode("Chức vụ"), enc_col(rows["position"]), width=18),
            school_col,
            Col(encode("Trạng thái CB"), enc_col(rows["emp_status"]), width=14),
            Col(encode("Chữ ký số"), enc_col(rows["sig"].map(vocab)), width=13),
            Col(encode("Nhà cung cấp"), enc_col(rows["provider_w"]), width=12),
            Col(encode("Ngày cấp"), listify(text_dates(rows["issued_w"], "%d/%m/%Y"))),
            Col(encode("Ngày hết hạn"), listify(text_dates(rows["expires_w"], "%d/%m/%Y"))),
        ]
        spec = SheetSpec(sheet, cols, titles=titles)
        rel = self.rel(period, f"{stem}.xlsx")
        lay = self._write_sheet(
            period, pdate, rel, spec, "cbgvnv", TH, encoding=enc, school_code=code
        )
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

    def _write_csv(self, period, rel, df, level, encoding, sep, code, preamble=()) -> int:
        """Write a school's CSV list and record it: the first data line (1-based)."""
        header_line = write_csv(self.out / rel, df, sep=sep, encoding=encoding, preamble=preamble)
        first = header_line + 1
        lay = {"header_rows": [header_line], "first_row": first, "last_row": first + len(df) - 1}
        lay["columns"] = list(df.columns)
        extra = {"encoding": encoding, "delimiter": sep, "school_code": code}
        self._source(period, rel, lay, "cbgvnv", level, **extra)
        return first

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
                "Ngày sinh": dmy_nozero(rows["birth_date"]),
                "Số CCCD": rows["id_number"],
                "Số điện thoại": rows["phone"],
                "Chức vụ": rows["position"],
                "Tên trường": "Tiểu học Vũ Xuân Thiều",
                "Trạng thái CB": rows["emp_status"],
                "Đã có CKS": status,
                "Nhà cung cấp": rows["provider_w"],
                "Ngày cấp": dmy_nozero(rows["issued_w"]),
                "Ngày hết hạn": dmy_nozero(rows["expires_w"]),
            }
        )
        rel = self.rel(period, "TH_VuXuanThieu_CKS.csv")
        title = f"DANH SÁCH CBGVNV TRƯỜNG TIỂU HỌC VŨ XUÂN THIỀU - {dmy(pdate)}"
        first = self._write_csv(period, rel, df, TH, "cp1258", ";", code, preamble=[title, ""])
        P = self.planted
        note = "CSV Windows-1258, dấu phân cách ';', ngày dạng d/m/yyyy"
        P.add(rel, "", first - 1, "cbgvnv", "cp1258_csv", "repaired", note=note)
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
        issued = text_dates(rows["issued_w"], "%Y-%m-%d").where(
            iso, text_dates(rows["issued_w"], "%d-%m-%Y")
        )
        expires = text_dates(rows["expires_w"], "%Y-%m-%d").where(
            iso, text_dates(rows["expires_w"], "%d-%m-%Y")
        )
        df = pd.DataFrame(
            {
                "Mã CB": rows["staff_id"],
                "Họ tên": rows["full_name"],
                "Ngày sinh": text_dates(rows["birth_date"], "%d-%m-%Y"),
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
        first = self._write_csv(period, rel, df, THCS, "utf-8-sig", ",", code)
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
        vocab = SIG_WORDS

        def col(label, s, **kw):
            return Col(nfd(label), listify(map_unique(s.replace("", None), nfd)), **kw)

        birth, _ = mixed_dates(rows["birth_date"], 0.0, self.rng)
        cols = [
            Col("STT", list(range(1, len(rows) + 1)), width=6),
            Col(nfd("Mã định danh"), rows["staff_id"].tolist(), width=13),
            col("Họ và tên", rows["full_name"], width=24),
            Col(nfd("Ngày sinh"), birth, kind="date"),
            Col(nfd("Số CCCD"), rows["id_number"].tolist(), width=14),
            col("Chức vụ", rows["position"], width=18),
            Col(nfd("Tên trường"), [nfd(self.name_of[code])] * len(rows), width=28),
            col("Trạng thái CB", rows["emp_status"]),
            col("Chữ ký số", rows["sig"].map(vocab)),
            col("Nhà cung cấp", rows["provider_w"]),
            Col(nfd("Ngày cấp"), py_dates(rows["issued_w"]).tolist(), kind="date"),
            Col(nfd("Ngày hết hạn"), py_dates(rows["expires_w"]).tolist(), kind="date"),
        ]
        sheet = "CBGVNV"
        spec = SheetSpec(sheet, cols, titles=[nfd(f"Trường THCS Phúc Lợi - {dmy(pdate)}")])
        rel = self.rel(period, "THCS_PhucLoi_CBGVNV.xlsx")
        extra = {"encoding": "nfd", "school_code": code}
        lay = self._write_sheet(period, pdate, rel, spec, "cbgvnv", THCS, **extra)
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
