"""The report's computed sentences of section II: what the head reads first.

``_status`` (II.3, per level: coverage and its change, who is still without a signature, the
schools furthest behind, ``_deadline_lines``: the window's end at the recent pace, expiring
certificates), ``_records`` (II.4, record signing, when the period has it) and
``_certificates`` (the school's own certificate and the providers' lists, when present).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import pandas as pd

from analysis import paths
from analysis.core import vocab
from analysis.core.fmt import fmt_date, fmt_int, fmt_num, fmt_pct
from analysis.report.wording import as_number, level_rows, short_school_name


def _days_text(days: int) -> str:
    return f"{fmt_int(abs(days))} ngày"


def _status(tables: Mapping[str, pd.DataFrame], period: str) -> list[dict]:
    """What the head reads first (section II.3), per level with signature data: ``{"level",
    "heading", "lines"}`` (heading "Cấp Tiểu học", or "Trường nhiều cấp học" for the staff of
    multi-level schools whose level is not given); each line a computed sentence: coverage and
    its change in points; staff still without a signature and at how many schools; the schools
    furthest behind, with counts; the window's end (30/6) at the recent pace, in words, and the
    signatures a week each lagging school needs; certificates expiring before the window
    ends."""
    from analysis.metrics import signing_window_end

    end = signing_window_end(paths.parse_period(period))
    by_level = tables.get("coverage_by_level")
    if by_level is None or by_level.empty:
        return []
    out = []
    for level in vocab.SCHOOL_LEVELS:  # "Trường nhiều cấp học": staff of no single level
        row = level_rows(by_level, level)
        if row.empty or not (as_number(row.iloc[0]["n_staff"]) or 0) > 0:
            continue
        lines = _level_status(tables, level, row.iloc[0], period, end)
        heading = level if level == vocab.MULTI_LEVEL else f"Cấp {level}"
        out.append({"level": level, "heading": heading, "lines": lines})
    return out


def _level_status(tables: Mapping, level: str, r, period: str, end) -> list[str]:
    """The sentences of one level (``r``: its ``coverage_by_level`` row)."""
    unsigned = int(r["n_staff"]) - int(r["n_signed"])
    schools = level_rows(tables.get("coverage_by_school"), level)
    reporting = schools[pd.to_numeric(schools["n_staff"]).notna()] if len(schools) else schools
    text = _coverage_text(r, level_rows(tables.get("coverage_history"), level), period)
    lines = [text + _unsigned_text(unsigned, reporting)]
    if unsigned and len(reporting) and "rank_in_level" in reporting.columns:
        lines += _lowest_schools(reporting, level)
    if unsigned:
        lines += _deadline_lines(tables, level, period, end)
    lines += _expiring_lines(level_rows(tables.get("expiring"), level), fmt_date(end))
    return lines


def _coverage_text(r, past: pd.DataFrame, period: str) -> str:
    """Coverage of the level and its change since the previous period, in points."""
    staff, signed = int(r["n_staff"]), int(r["n_signed"])
    text = (
        f"Đã có chữ ký số cá nhân: {fmt_int(signed)}/{fmt_int(staff)} CBGVNV "
        f"({fmt_pct(r['coverage'])})"
    )
    if not past.empty:
        past = past[past["period"].astype("str") < period].sort_values("period")
    if past is not None and not past.empty and pd.notna(past.iloc[-1]["coverage"]):
        prev = past.iloc[-1]
        delta = float(r["coverage"]) - float(prev["coverage"])
        prev_day = fmt_date(paths.parse_period(str(prev["period"])))
        verb = "tăng" if delta > 0 else "giảm" if delta < 0 else "không đổi"
        amount = f" {fmt_num(abs(delta) * 100, 1)} điểm %" if delta else ""
        text += f", {verb}{amount} so với kỳ trước ({prev_day})"
    return text


def _unsigned_text(unsigned: int, reporting: pd.DataFrame) -> str:
    """How many are still without a signature, at how many of the reporting schools."""
    if unsigned and len(reporting):
        left = pd.to_numeric(reporting["n_staff"]) - pd.to_numeric(reporting["n_signed"])
        return (
            f"; còn {fmt_int(unsigned)} người chưa có, tại {fmt_int((left > 0).sum())}/"
            f"{fmt_int(len(reporting))} trường."
        )
    return "." if unsigned else "; mọi CBGVNV đã có chữ ký số."


def _lowest_schools(reporting: pd.DataFrame, level: str) -> list[str]:
    """The three schools of lowest rank that still lack signatures, with their counts."""
    ranked = reporting[pd.to_numeric(reporting["rank_in_level"]).notna()]
    low = ranked.sort_values("rank_in_level", kind="mergesort").head(3)
    low = low[pd.to_numeric(low["n_signed"]) < pd.to_numeric(low["n_staff"])]
    if not len(low):
        return []
    named = "; ".join(
        f"{short_school_name(s.school_name, level)} {fmt_int(s.n_signed)}/"
        f"{fmt_int(s.n_staff)} ({fmt_pct(s.coverage)}), còn "
        f"{fmt_int(s.n_staff - s.n_signed)} người"
        for s in low.itertuples(index=False)
    )
    return [f"Các trường thấp nhất: {named}."]


def _expiring_lines(expiring: pd.DataFrame, end_text: str) -> list[str]:
    """Certificates of signed staff that expire before the window's end."""
    if not len(expiring):
        return []
    n_exp = pd.to_numeric(expiring["n_expiring_window"]).fillna(0)
    if n_exp.sum() > 0:
        return [
            f"{fmt_int(n_exp.sum())} chứng thư số của CBGVNV đã có chữ ký số (tại "
            f"{fmt_int((n_exp > 0).sum())} trường) hết hạn trước {end_text}: cần gia "
            "hạn trước khi ký học bạ."
        ]
    return [f"Không có chứng thư số nào hết hạn trước {end_text}."]


def _deadline_lines(tables: Mapping[str, pd.DataFrame], level: str, period: str, end) -> list[str]:
    """The window's end at the recent pace: the district trend's date against 30/6, then the
    saturating per-school projection and what each lagging school needs a week."""
    lines = _trend_lines(level_rows(tables.get("projection"), level), end)
    pace = level_rows(tables.get("signing_pace"), level)
    if pace.empty or pace["prev_period"].isna().all():
        return lines
    return lines + [_pace_line(pace, level, fmt_date(end))]


def _trend_lines(proj: pd.DataFrame, end) -> list[str]:
    """When the level as a whole reaches 100% on the trend, against the window's end (or the
    projection's note when it has no date)."""
    end_text = fmt_date(end)
    date_100 = proj.iloc[0]["date_100"] if len(proj) else None
    if isinstance(date_100, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date_100):
        reach = paths.parse_period(date_100)
        gap = (reach - end).days
        when = (
            f"muộn hơn hạn {end_text} {_days_text(gap)}"
            if gap > 0
            else f"trước hạn {end_text} {_days_text(gap)}"
            if gap < 0
            else f"đúng hạn {end_text}"
        )
        return [
            f"Theo xu hướng chung của {fmt_int(proj.iloc[0]['n_points'])} kỳ, toàn cấp đạt 100% "
            f"vào khoảng {fmt_date(reach)}, {when}."
        ]
    if len(proj) and isinstance(proj.iloc[0]["note"], str) and proj.iloc[0]["note"]:
        note = proj.iloc[0]["note"]
        if note not in ("None", "nan"):
            return [note]
    return []


def _pace_line(pace: pd.DataFrame, level: str, end_text: str) -> str:
    """Each school at its own pace since the previous period: all done by the window's end,
    or who is left and what each lagging school needs a week."""
    late = pace[~pace["on_track"].astype(bool)]
    prev = pace["prev_period"].dropna().astype("str").max()
    prev_text = fmt_date(paths.parse_period(prev))
    if late.empty:
        return (
            f"Tính theo tốc độ riêng của từng trường từ kỳ trước ({prev_text}), mọi trường "
            f"xong trước {end_text}."
        )
    left = int(pd.to_numeric(late["left_at_window_end"]).sum())
    late = late.assign(_left=pd.to_numeric(late["left_at_window_end"]))
    late = late.sort_values("_left", ascending=False, kind="mergesort")
    shown = late.head(5)
    named = "; ".join(
        f"{short_school_name(s.school_name, level)} cần "
        f"{fmt_int(math.ceil(s.needed_per_week - 1e-9))}/tuần (hiện "
        f"{fmt_num(s.signed_per_week if pd.notna(s.signed_per_week) else 0, 1)}/tuần)"
        for s in shown.itertuples(index=False)
    )
    more = f" và {fmt_int(len(late) - len(shown))} trường khác" if len(late) > len(shown) else ""
    return (
        f"Tính theo tốc độ riêng của từng trường từ kỳ trước ({prev_text}), đến {end_text} "
        f"vẫn còn khoảng {fmt_int(left)} người chưa có, tại {fmt_int(len(late))} trường. Số "
        f"chữ ký mỗi tuần các trường này cần để kịp hạn: {named}{more}."
    )


def _records(tables: Mapping[str, pd.DataFrame], as_of: str) -> dict | None:
    """Record signing (``hoc_ba``), when the period has it: per level a sentence (records
    signed by the homeroom teacher, approved by the principal; the grades; the schools
    furthest behind), and the table by grade of each level with its total row."""
    by_level = tables.get("records_by_level")
    if by_level is None or by_level.empty:
        return None
    lines, rows = [], []
    for level in vocab.LEVELS:
        row = level_rows(by_level, level)
        if row.empty or not (as_number(row.iloc[0]["n_records"]) or 0) > 0:
            continue
        grades = level_rows(tables.get("records_by_grade"), level)
        if len(grades):
            grades = grades.sort_values("grade", kind="mergesort")
        schools = level_rows(tables.get("records_by_school"), level)
        lines.append(_records_line(row.iloc[0], grades, schools, level, as_of))
        rows += (
            [_grade_row(g, level) for g in grades.itertuples(index=False)] if len(grades) else []
        )
    if not lines:
        return None
    total = level_rows(by_level, vocab.TOTAL)
    return {"lines": lines, "rows": rows, "total": _records_total(total)}


def _records_line(r, grades: pd.DataFrame, schools: pd.DataFrame, level: str, as_of: str) -> str:
    """One level's sentence: signed by the homeroom teacher, approved by the principal, the
    lowest grade and the three schools whose principal approved least."""
    text = (
        f"Cấp {level}: đến {as_of}, {fmt_int(r['n_signed_teacher'])}/"
        f"{fmt_int(r['n_records'])} học bạ ({fmt_pct(r['rate_teacher'])}) đã được giáo viên "
        f"chủ nhiệm ký số, {fmt_int(r['n_signed_principal'])} ({fmt_pct(r['rate_principal'])})"
        " đã được hiệu trưởng duyệt ký"
    )
    if len(grades):
        low = grades.sort_values("rate_principal", kind="mergesort").iloc[0]
        text += (
            f"; khối thấp nhất: lớp {fmt_int(low['grade'])} (hiệu trưởng đã duyệt "
            f"{fmt_pct(low['rate_principal'])})"
        )
    if len(schools):
        schools = schools[pd.to_numeric(schools["n_records"]).fillna(0) > 0]
        low = schools.sort_values("rate_principal", kind="mergesort").head(3)
        named = "; ".join(
            f"{short_school_name(s.school_name, level)} {fmt_int(s.n_signed_principal)}/"
            f"{fmt_int(s.n_records)} ({fmt_pct(s.rate_principal)})"
            for s in low.itertuples(index=False)
        )
        if named:
            text += f". Các trường hiệu trưởng duyệt ký ít nhất: {named}"
    return text + "."


#: The columns of the records table by grade (and of its total row).
RECORD_COLUMNS = {
    "n_records": fmt_int,
    "n_signed_teacher": fmt_int,
    "rate_teacher": fmt_pct,
    "n_signed_principal": fmt_int,
    "rate_principal": fmt_pct,
}


def _grade_row(g, level: str) -> dict:
    return {
        "label": f"{level}, lớp {fmt_int(g.grade)}",
        **{col: fmt(getattr(g, col)) for col, fmt in RECORD_COLUMNS.items()},
    }


def _records_total(total: pd.DataFrame) -> dict:
    t = total.iloc[0] if len(total) else None
    return {col: fmt(t[col]) if t is not None else "–" for col, fmt in RECORD_COLUMNS.items()}


#: The type of signature (``staff.cert_type``) in the report's words.
CERT_TYPE_WORDS = {"token": "USB Token", "remote": "ký số từ xa", "hsm": "HSM",
                   "unknown": "chưa rõ loại"}  # fmt: skip


#: How many schools without a certificate of their own the report names.
SHOWN_SCHOOLS = 10


def _certificates(tables: Mapping[str, pd.DataFrame], as_of: str, number: int) -> dict | None:
    """The school's own certificate (con dấu số) and the providers' lists, when the period has
    them (``metrics.certificate_tables``): a sentence and a table by level for the first, a
    sentence on the certificates matched / not matched to any staff and one on the type of
    signature for the second. None without either."""
    ready = tables.get("institution_readiness")
    by_provider = tables.get("certificates_by_provider")
    types = tables.get("signature_type_by_provider")
    out: dict = {"number": str(number), "seal_line": "", "rows": [], "total": {}, "ca_lines": []}
    if ready is not None and len(ready):
        out |= _seal(ready, tables.get("schools_without_seal"), as_of)
    if by_provider is not None and len(by_provider):
        out["ca_lines"].append(_matched_line(by_provider))
    if types is not None and len(types):
        out["ca_lines"].append(_types_line(types))
    if not out["seal_line"] and not out["ca_lines"]:
        return None
    return out


def _seal(ready: pd.DataFrame, without: pd.DataFrame | None, as_of: str) -> dict:
    """The schools with a valid certificate of their own: the sentence (naming the first
    ``SHOWN_SCHOOLS`` without one), the rows by level and the total row."""
    from analysis.metrics import ALL

    total = ready[(ready["level"] == vocab.TOTAL) & (ready["commune"] == vocab.TOTAL)].iloc[0]
    n_without = int(total["n_schools"]) - int(total["n_ready"])
    line = (
        f"{fmt_int(total['n_ready'])}/{fmt_int(total['n_schools'])} trường "
        f"({fmt_pct(total['share'])}) đã có chữ ký số của cơ quan (con dấu số) còn hiệu lực "
        f"tính đến {as_of}"
    )
    if n_without and without is not None and len(without):
        names = [str(x) for x in without["school_name"].tolist()]
        shown = ", ".join(names[:SHOWN_SCHOOLS])
        more = len(names) - SHOWN_SCHOOLS
        line += f"; còn {fmt_int(n_without)} trường chưa có: {shown}"
        if more > 0:
            line += f" và {fmt_int(more)} trường khác (danh sách trong bảng biểu Excel)"
    elif not n_without:
        line += "; tất cả các trường đã có"
    levels = ready[(ready["commune"] == ALL) & ~ready["level"].isin([ALL, vocab.TOTAL])]
    rows = [
        {"level": str(r.level), **_seal_row(r.n_schools, r.n_ready, r.share)}
        for r in levels.itertuples(index=False)
    ]
    total_row = _seal_row(total["n_schools"], total["n_ready"], total["share"])
    return {"seal_line": line + ".", "rows": rows, "total": total_row}


def _seal_row(n_schools, n_ready, share) -> dict:
    return {
        "n_schools": fmt_int(n_schools),
        "n_ready": fmt_int(n_ready),
        "n_without": fmt_int(int(n_schools) - int(n_ready)),
        "share": fmt_pct(share),
    }


def _matched_line(by_provider: pd.DataFrame) -> str:
    """The providers' certificates matched / not matched to a staff member (by CCCD)."""
    body = by_provider[by_provider["provider"] != vocab.TOTAL]
    t = by_provider[by_provider["provider"] == vocab.TOTAL].iloc[0]
    per = "; ".join(
        f"{r.provider}: {fmt_int(r.n_matched)} khớp, {fmt_int(r.n_unmatched)} không khớp"
        for r in body.itertuples(index=False)
    )
    return (
        f"Danh sách thuê bao của các nhà cung cấp có {fmt_int(t['n_certificates'])} chứng "
        f"thư số: {fmt_int(t['n_matched'])} khớp với CBGVNV (theo số CCCD), "
        f"{fmt_int(t['n_unmatched'])} không khớp CBGVNV nào ({per})."
    )


def _types_line(types: pd.DataFrame) -> str:
    """The type of signature of signed staff, per provider."""
    parts = []
    for provider, grp in types.groupby("provider", sort=False):
        kinds = ", ".join(
            f"{fmt_int(r.n_staff)} {CERT_TYPE_WORDS.get(r.cert_type, r.cert_type)}"
            for r in grp.itertuples(index=False)
        )
        parts.append(f"{provider}: {kinds}")
    return (
        "Loại chữ ký số của CBGVNV đã có chữ ký số theo danh sách thuê bao: "
        + "; ".join(parts)
        + "."
    )
