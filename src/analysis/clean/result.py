"""``CleanResult``: what ``clean_period`` wrote, with views for the notebook."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis.clean.quality import REASON_LABELS
from analysis.core import privacy
from analysis.core.fmt import fmt_date
from analysis.ingest import contract as K


@dataclass
class CleanResult:
    """What ``clean_period`` wrote, with views for the notebook (Vietnamese column labels)."""

    period: str
    out_dir: Path
    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    quality: dict
    unmatched_schools: pd.DataFrame
    duplicate_rows: pd.DataFrame = field(default_factory=pd.DataFrame)

    # -- views -------------------------------------------------------------------------------

    def inputs(self) -> pd.DataFrame:
        """Files and sheets read: kind, serving folder; then skipped sheets, then the files
        not read."""
        rows = [
            {
                "Tệp": i["file"],
                "Trang": i["sheet"],
                "Loại bảng": K.KIND_TITLES.get(i["kind"], i["kind"]),
                "Thư mục phục vụ": i["folder"],
                "Mã hoá": i.get("encoding") or i.get("legacy_encoding") or "",
            }
            for i in self.quality["inputs"]
        ]
        rows += [
            {
                "Tệp": s["file"],
                "Trang": s["sheet"],
                "Loại bảng": "(bỏ qua) " + s["reason"],
                "Thư mục phục vụ": "",
                "Mã hoá": "",
            }
            for s in privacy.public_quality(self.quality)["skipped_sheets"]
        ]
        rows += [
            {
                "Tệp": u["file"],
                "Trang": "",
                "Loại bảng": "(không đọc) " + u["reason"],
                "Thư mục phục vụ": "",
                "Mã hoá": "",
            }
            for u in self.quality.get("unread_files", [])
        ]
        return pd.DataFrame(
            rows, columns=["Tệp", "Trang", "Loại bảng", "Thư mục phục vụ", "Mã hoá"]
        )

    def unread_files(self) -> pd.DataFrame:
        """The files of the period's folders that were not read, with the reason."""
        return pd.DataFrame(
            [(u["file"], u["reason"]) for u in self.quality.get("unread_files", [])],
            columns=["Tệp", "Lý do không đọc"],
        )

    def served(self) -> pd.DataFrame:
        """Kind -> the folder that served it (carry-forward)."""
        return pd.DataFrame(
            [
                {"Loại bảng": K.KIND_TITLES[k], "Thư mục phục vụ": v or "(không có dữ liệu)"}
                for k, v in self.quality["served"].items()
            ]
        )

    def accounting(self) -> pd.DataFrame:
        """Per input sheet: rows read = kept + quarantined + non-data, with a ✓."""
        rows = []
        for i in self.quality["inputs"]:
            nd = i["non_data"]
            rows.append(
                {
                    "Tệp": i["file"],
                    "Trang": i["sheet"],
                    "Loại bảng": i["kind"],
                    "Số dòng đọc": i["rows_read"],
                    "Giữ lại": i["kept"],
                    "Cách ly": i["quarantined"],
                    "Tiêu đề": nd["title"],
                    "Dòng tên cột": nd["header"],
                    "Dòng trống": nd["blank"],
                    "Chân trang": nd["footer"],
                    "Dòng tổng": nd["total"],
                    "Cân đối": "✓" if i["balanced"] else "✗",
                }
            )
        return pd.DataFrame(rows)

    def repairs(self) -> pd.DataFrame:
        """Repairs counted by kind."""
        items = sorted(self.quality["repairs"].items())
        return pd.DataFrame(items, columns=["Loại sửa", "Số ô / dòng"])

    def quarantine_summary(self) -> pd.DataFrame:
        """Quarantined rows per kind and reason."""
        q = self.quarantine
        if q.empty:
            return pd.DataFrame(columns=["Loại bảng", "Lý do", "Mô tả", "Số dòng"])
        out = q.groupby(["kind", "reason"]).size().rename("n").reset_index()
        out["label"] = out["reason"].map(REASON_LABELS).fillna(out["reason"])
        out = out[["kind", "reason", "label", "n"]]
        out.columns = ["Loại bảng", "Lý do", "Mô tả", "Số dòng"]
        return out

    def quarantine_examples(self, n: int = 3) -> pd.DataFrame:
        """A few quarantined rows per reason (file, sheet, row, message; no personal value,
        free text hidden: ``privacy.public_quarantine``)."""
        q = privacy.public_quarantine(self.quarantine)
        cols = ["reason", "source_file", "source_sheet", "source_row", "column", "value", "message"]
        ex = q.groupby("reason", sort=True).head(n)[cols] if len(q) else q[cols]
        ex = ex.sort_values(["reason", "source_file", "source_sheet", "source_row"])
        ex.columns = ["Lý do", "Tệp", "Trang", "Dòng", "Cột", "Giá trị", "Thông báo"]
        return ex.reset_index(drop=True)

    def unmatched(self) -> pd.DataFrame:
        """Unmatched school names with suggestions."""
        u = self.unmatched_schools
        out = u[["kind", "school_name_raw", "school_code_raw", "reason", "n_rows", "candidates"]]
        out.columns = ["Loại bảng", "Tên trường", "Mã trường", "Lý do", "Số dòng", "Gợi ý"]
        return out.reset_index(drop=True)

    def duplicates(self) -> pd.DataFrame:
        """Duplicate people: the row kept and the rows dropped, with the rule applied."""
        d = self.duplicate_rows
        if d.empty:
            return pd.DataFrame(columns=["Quy tắc", "Giữ", "Bỏ"])
        out = d[["rule", "kept", "dropped"]].copy()
        out.columns = ["Quy tắc", "Giữ", "Bỏ"]
        return out

    def left_staff(self) -> pd.DataFrame:
        """Staff no longer working, by status (excluded from every denominator)."""
        by = self.quality["left_staff"]["by_status"]
        return pd.DataFrame(sorted(by.items()), columns=["Trạng thái CB", "Số người"])

    def warnings(self) -> pd.DataFrame:
        """The warnings, quoted raw texts hidden (``privacy.public_quality``)."""
        w = privacy.public_quality(self.quality)["warnings"]
        cols = ["code", "kind", "file", "sheet", "row", "message"]
        out = pd.DataFrame(w, columns=cols)
        out.columns = ["Mã", "Loại bảng", "Tệp", "Trang", "Dòng", "Thông báo"]
        return out

    def certificates(self) -> pd.DataFrame:
        """The providers' lists and their join to the staff lists (``quality.json
        ["certificates"]``), one line per count, Vietnamese labels; per-school counts as
        ``mã trường: n`` lists. No personal data (counts, providers, school codes)."""
        q = self.quality.get("certificates", {})

        def per(d: dict) -> str:
            return "; ".join(f"{k}: {v}" for k, v in sorted(d.items())) if d else ""

        un = q.get("unmatched_certificate", {})
        over = q.get("overruled", {})
        exp = q.get("expiring_before_window", {})
        missing = q.get("signature_source_missing", {})
        inst = q.get("institutions", {})
        no_cert = q.get("staff_without_certificate", 0)
        end = fmt_date(pd.Timestamp(q["window_end"])) if q.get("window_end") else ""
        rows = [
            ("Có danh sách thuê bao của nhà cung cấp", "có" if q.get("lists") else "không", ""),
            ("Chứng thư đọc được", q.get("certificates_read", 0), ""),
            ("Chứng thư dùng được", q.get("certificates_kept", 0), per(q.get("by_provider", {}))),
            ("Chứng thư bị cách ly", q.get("certificates_refused", 0), ""),
            ("Chứng thư còn hiệu lực tại kỳ", q.get("active_on_period", 0), ""),
            ("Chứng thư khớp CBGVNV", q.get("matched", 0), ""),
            ("Chứng thư không khớp CBGVNV nào", un.get("total", 0), per(un.get("by_provider", {}))),
            ("  trong đó theo trường (nếu danh sách ghi đơn vị)", "", per(un.get("by_school", {}))),
            ("CBGVNV lấy chữ ký số từ danh sách nhà cung cấp", q.get("staff_joined", 0), ""),
            ("CBGVNV đang làm việc không có chứng thư nào", no_cert, ""),
            ("CBGVNV đang làm việc không có Số CCCD", q.get("staff_without_cccd", 0), ""),
            ("Số CCCD của CBGVNV không hợp lệ (không nối được)", q.get("staff_bad_cccd", 0), ""),
            ("Số CCCD mất số 0 đầu (đã bù)", q.get("staff_cccd_padded", 0), ""),
            ("Trạng thái tự khai bị thay bằng danh sách nhà cung cấp", over.get("total", 0),
             per(over.get("by_school", {}))),
            (f"Chứng thư hết hạn trước {end}", exp.get("total", 0),
             per(exp.get("by_school", {}))),
            ("CBGVNV không có nguồn chữ ký số (không cột Chữ ký số, không danh sách)",
             missing.get("total", 0), per(missing.get("by_school", {}))),
            ("Trường có chữ ký số tổ chức / sẵn sàng tại kỳ",
             f"{inst.get('schools', 0)} / {inst.get('ready', 0)}", ""),
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=["Nội dung", "Số lượng", "Chi tiết"]).astype(
            {"Số lượng": "str"}
        )

    def total_checks(self) -> pd.DataFrame:
        t = self.quality["total_checks"]
        cols = ["kind", "file", "sheet", "row", "column", "reported", "computed", "ok"]
        out = pd.DataFrame(t, columns=cols)
        out.columns = ["Loại bảng", "Tệp", "Trang", "Dòng", "Cột", "Dòng tổng", "Tổng tính", "Khớp"]
        return out
