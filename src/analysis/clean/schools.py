"""The school list (``truong``) -> ``schools`` and ``school_levels``.

``clean_schools``: codes (zero-padded to the width of the codes stored as text), names, levels
(from ``Cấp học`` or the name), counts, duplicate codes, ownership and places; then the rows of
one code at different levels are merged into one school (``_merge_levels``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.clean import match
from analysis.clean.checks import (
    KindCheck,
    _Checks,
    _col,
    _contact_mask,
    _display,
    _is_number_cell,
    _KindOut,
    _other_warnings,
    _shown,
    _unknown_width_warning,
    _warning_at,
)
from analysis.core import parse, schemas, text, vocab
from analysis.ingest import RawTable


def clean_schools(tables: list[RawTable], code_evidence: pd.Series | None = None) -> _KindOut:
    """The school list -> ``schools`` (refused rows quarantined).

    Codes are zero-padded to the width ``match.code_width`` finds: from the list's codes stored
    as text, else from ``code_evidence`` (the raw codes of the period's other files and of the
    alias table); with neither, codes stay as read and a warning says so."""
    k = KindCheck("truong", tables)
    code = _school_codes(k, code_evidence)
    name = _school_names(k)
    row_levels = _school_row_levels(k, name)
    k.count("n_classes", "Số lớp")
    k.count("n_pupils", "Số học sinh")
    _optional_counts(k)
    _duplicate_codes(k.checks, code, row_levels)
    ownership, places = _ownership_and_places(k)
    out = k.kept_rows(
        {
            "school_code": code,
            "school_name": name,
            "levels": row_levels,
            "ownership": ownership,
            "ward": places["ward"],
            "district": places["district"],
            # as the list writes them; ``units.assign_units`` applies the period's rule
            "province": places["province"],
            "commune": places["commune"],
            **{col: k.parsed[col] for col in _SCHOOL_COUNTS},
        }
    )
    out, school_levels, level_warnings = _merge_levels(out, k.stats)
    k.warnings += level_warnings
    extra = {"school_levels": schemas.conform("school_levels", school_levels)}
    return k.result(schemas.conform("schools", out), list(_SCHOOL_COUNTS), extra)


def _school_codes(k: KindCheck, code_evidence: pd.Series | None) -> pd.Series:
    """The school codes, zero-padded to the width of the codes stored as text (warning
    ``code_width_unknown`` when no code tells it); a missing (``missing_code``) or unreadable
    (``bad_code``) code is refused."""
    df, checks = k.df, k.checks
    raw_code = _col(df, "school_code")
    code, bad_code = parse.parse_code(raw_code)
    width = match.code_width(raw_code, code_evidence)
    if not width:
        numeric = _is_number_cell(raw_code) & code.notna()
        if numeric.any():
            k.warnings.append(_unknown_width_warning(df, numeric, "truong", "Mã trường"))
    padded = parse.pad_code(code, width) if width else code
    k.stats["code_padded"] = int((padded.str.len() > code.str.len()).fillna(False).sum())
    code = padded.astype("str")
    shown_code = _display(raw_code)
    checks.add(
        "missing_code",
        code.isna() & ~bad_code,
        "school_code",
        "",
        "Thiếu mã trường. Hãy điền mã trường rồi chạy lại.",
    )
    checks.add(
        "bad_code",
        bad_code,
        "school_code",
        shown_code,
        "Mã trường '" + shown_code + f"' không hợp lệ: cần {parse.EXPECTED_FORMAT['code']}.",
    )
    return code


def _school_names(k: KindCheck) -> pd.Series:
    """The school names; a missing name (``missing_name``) or one holding a phone number or
    an e-mail (``contact_in_text``) is refused."""
    name = text.clean_text_series(_col(k.df, "school_name"))
    k.checks.add(
        "missing_name",
        name.isna(),
        "school_name",
        "",
        "Thiếu tên trường. Hãy điền tên trường rồi chạy lại.",
    )
    shown_name = _shown(name)
    k.checks.add(
        "contact_in_text",
        _contact_mask(name),
        "school_name",
        shown_name,
        lambda rows: (
            "Tên trường '"
            + shown_name(rows)
            + "' có số điện thoại hoặc e-mail (đã che): tên trường không được chứa thông tin "
            "liên hệ. Hãy sửa tên trường theo danh sách rồi chạy lại."
        ),
    )
    return name


def _school_row_levels(k: KindCheck, name: pd.Series) -> pd.Series:
    """The levels of each row (``_row_levels``); an unknown level, or a multi-level school
    whose levels are named nowhere, is refused (``bad_level``)."""
    raw_level = _col(k.df, "level")
    row_levels, bad_level, unnamed = _row_levels(raw_level, name, k.stats)
    shown_level = _display(raw_level)
    k.checks.add(
        "bad_level",
        bad_level | (row_levels.isna() & ~unnamed),
        "level",
        shown_level,
        "Cấp học '" + shown_level + f"' không rõ: cần {parse.EXPECTED_FORMAT['level']}. Hãy "
        "sửa ô này rồi chạy lại.",
    )
    k.checks.add(
        "bad_level",
        unnamed,
        "level",
        shown_level,
        "Cấp học '" + shown_level + "': trường nhiều cấp học nhưng cả ô Cấp học lẫn tên trường "
        "đều không nêu các cấp. Hãy ghi các cấp vào ô Cấp học (ví dụ TH&THCS), hoặc mỗi cấp "
        "một dòng, rồi chạy lại.",
    )
    return row_levels


def _optional_counts(k: KindCheck) -> None:
    """The optional pupil-id counts into ``k.parsed``: a value unreadable, negative or above
    the pupils is dropped to empty with a warning (the school is kept)."""
    for col, label in (
        ("n_pupils_with_id", "Số HS có mã định danh"),
        ("n_pupils_verified", "Số HS đã xác thực"),
    ):
        raw = _col(k.df, col)
        values, bad = parse.parse_int_vn(raw)
        wrong = bad | (values < 0).fillna(False) | (values > k.parsed["n_pupils"]).fillna(False)
        wrong = wrong & k.checks.reason.isna()
        for i in np.flatnonzero(wrong.to_numpy())[:50]:
            shown = _display(raw.iloc[[i]]).iat[0]
            k.warnings.append(
                _warning_at(
                    k.df,
                    i,
                    "bad_optional_count",
                    "truong",
                    quoted=[shown],
                    message=f"{label} '{shown}' không hợp lệ (không đọc được, âm hoặc lớn "
                    "hơn số học sinh): để trống.",
                )
            )
        k.parsed[col] = values.mask(wrong.to_numpy())


def _duplicate_codes(checks: _Checks, code: pd.Series, row_levels: pd.Series) -> None:
    """A code listed twice at the same level: the first kept row wins (duplicates among the
    rows not yet refused). Rows of one code at different levels are one multi-level school."""
    ok_codes = code.where(checks.reason.isna())
    checks.add(
        "duplicate_school",
        _level_duplicates(ok_codes, row_levels),
        "school_code",
        code.fillna(""),
        "Mã trường '" + code.fillna("") + "' đã có ở một dòng trước (cùng cấp học): dòng này bị "
        "bỏ qua. Hãy xoá dòng lặp rồi chạy lại.",
    )


def _ownership_and_places(k: KindCheck) -> tuple[pd.Series, dict[str, pd.Series]]:
    """(ownership, place columns) of each row. Ownership is a closed vocabulary; a ward or
    district is a name of the list, unless it holds a phone number or an e-mail: then it is
    written as "Khác" (raw text masked in the warnings only, for the kept rows)."""
    df, kept = k.df, k.kept
    raw_own = _col(df, "ownership")
    ownership, other_own = parse.parse_ownership(raw_own)
    ownership = parse.or_other(ownership, other_own)
    k.warnings += _other_warnings(
        "truong", df, raw_own, other_own & kept, "Loại hình", parse.OTHER, k.stats,
        "ownership_other",
    )  # fmt: skip
    places = {}
    for col, label in (
        ("ward", "Phường"),
        ("district", "Quận/Huyện"),
        ("commune", "Xã/Phường"),
        ("province", "Tỉnh/Thành phố"),
    ):
        place = text.clean_text_series(_col(df, col))
        contact = _contact_mask(place)
        k.warnings += _other_warnings(
            "truong", df, place, contact & kept, label, parse.OTHER, k.stats, f"{col}_other"
        )
        places[col] = place.mask(contact.to_numpy(), parse.OTHER)
    return ownership, places


def _row_levels(
    raw_level: pd.Series, name: pd.Series, stats: dict[str, int]
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(levels of each school-list row joined by ``vocab.LEVELS_SEP``, bad Cấp học, multi-level
    without its levels anywhere).

    ``Cấp học`` names one level or several (``TH&THCS``, ``Tiểu học, THCS``:
    ``parse.parse_levels``). A blank ``Cấp học`` takes the levels the name states ("Trường
    TH&THCS Đoàn Kết"; ``level_from_name``); ``Liên cấp`` / ``Trường nhiều cấp học`` takes
    them from the name too and needs two or more there (``multi_level_from_name``)."""
    levels, bad = parse.parse_levels(raw_level)
    stated = text.stated_levels_series(name).str.replace("|", vocab.LEVELS_SEP, regex=False)
    from_name = levels.isna() & ~bad & stated.notna()
    stats["level_from_name"] = int(from_name.sum())
    multi = (levels == vocab.MULTI_LEVEL).fillna(False).astype(bool)
    named = stated.str.contains(vocab.LEVELS_SEP, regex=False).fillna(False).astype(bool)
    if (multi & named).any():  # new counts only when there is something to count: the quality
        stats["multi_level_from_name"] = int((multi & named).sum())  # sheet of old data stays
    levels = levels.mask(multi.to_numpy(), stated.where(named))
    levels = levels.fillna(stated.where(from_name))
    return levels, bad, multi & ~named


def _level_duplicates(codes: pd.Series, row_levels: pd.Series) -> pd.Series:
    """Rows whose code was already listed, on an earlier row, at one of the same levels."""
    pairs = pd.DataFrame(
        {"code": codes.to_numpy(dtype=object), "levels": row_levels.to_numpy(dtype=object)}
    )
    pairs["row"] = np.arange(len(pairs))
    pairs = pairs.dropna()
    pairs["level"] = pairs["levels"].str.split(vocab.LEVELS_SEP, regex=False)
    pairs = pairs.explode("level")
    rows = pairs.loc[pairs.duplicated(["code", "level"], keep="first"), "row"].unique()
    dup = np.zeros(len(codes), dtype=bool)
    dup[rows] = True
    return pd.Series(dup, index=codes.index)


_SCHOOL_COUNTS = ("n_classes", "n_pupils", "n_pupils_with_id", "n_pupils_verified")


def _merge_levels(
    rows: pd.DataFrame, stats: dict[str, int]
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """The kept school-list rows (column ``levels``) -> (schools, school_levels, warnings).

    One school per code: the rows of one code at different levels (one row per school and
    level) become one school whose ``levels`` are theirs (in the order of ``vocab.LEVELS``),
    whose counts are their sums (a pupil-id count: unknown if one row leaves it blank), and
    whose name, ownership, place and source are the first row's. ``level`` is the level, or
    ``vocab.MULTI_LEVEL`` for two levels or more. ``school_levels`` keeps each row's counts under
    its level. A single row naming several levels (``TH&THCS``) has counts not split by level:
    its ``school_levels`` rows have them unknown (NA), the school keeps them in its totals, and
    the metrics count them once, on the ``Trường nhiều cấp học`` row (warning
    ``multi_level_unsplit``)."""
    rows = rows.reset_index(drop=True)
    parts = rows["levels"].astype(object).str.split(vocab.LEVELS_SEP, regex=False)
    unsplit = (parts.str.len() > 1).to_numpy()
    first = ~rows["school_code"].duplicated(keep="first")
    if not first.all():
        stats["multi_level_rows"] = int((~first).sum())
    if unsplit.any():
        stats["multi_level_unsplit"] = int(unsplit.sum())
    schools = rows[first.to_numpy()].copy()
    if not first.all():
        _sum_levels(schools, rows)
    multi = schools["levels"].str.contains(vocab.LEVELS_SEP, regex=False).fillna(False)
    schools["level"] = schools["levels"].mask(multi.to_numpy(), vocab.MULTI_LEVEL)
    warnings = _name_differs_warnings(rows, schools, first) if not first.all() else []
    warnings += _unsplit_warnings(rows, unsplit)
    return schools, _school_levels(rows, parts, unsplit), warnings


def _school_levels(rows: pd.DataFrame, parts: pd.Series, unsplit: np.ndarray) -> pd.DataFrame:
    """One row per school and level it teaches, with that row's counts (unknown for a row
    naming several levels: ``unsplit``), in code then ``vocab.LEVELS`` order."""
    sl = rows[["school_code", *_SCHOOL_COUNTS]].assign(level=parts)
    sl.loc[unsplit, list(_SCHOOL_COUNTS)] = pd.NA
    sl = sl.explode("level")
    sl["_rank"] = sl["level"].map(vocab.rank)
    sl = sl.sort_values(["school_code", "_rank"], kind="stable").drop(columns="_rank")
    return sl[["school_code", "level", *_SCHOOL_COUNTS]]


def _sum_levels(schools: pd.DataFrame, rows: pd.DataFrame) -> None:
    """Give each school (its first row, in ``schools``) the levels of all its rows and their
    counts summed (unknown if one row leaves the count blank)."""
    grouped = rows.groupby("school_code", sort=False)
    levels = grouped["levels"].agg(
        lambda v: vocab.LEVELS_SEP.join(
            vocab.order_levels(lv for t in v for lv in t.split(vocab.LEVELS_SEP))
        )
    )
    schools["levels"] = schools["school_code"].map(levels).to_numpy()
    for col in _SCHOOL_COUNTS:
        values = pd.to_numeric(rows[col]).astype("Int64")
        total = values.groupby(rows["school_code"], sort=False).sum(min_count=1)
        blank = values.isna().groupby(rows["school_code"], sort=False).any()
        schools[col] = pd.array(schools["school_code"].map(total.mask(blank)), "Int64")


def _name_differs_warnings(
    rows: pd.DataFrame, schools: pd.DataFrame, first: pd.Series
) -> list[dict]:
    """Rows of one code at several levels under names that differ (not only in their type
    prefix): one school by the rule, but maybe two schools given one code by mistake."""
    keys = text.school_key_series(rows["school_name"])
    differs = keys.groupby(rows["school_code"], sort=False).transform("nunique") > 1
    later = (differs & ~first).to_numpy(dtype=bool)
    warnings = []
    for i in np.flatnonzero(later)[:50]:
        r = rows.iloc[i]
        first_name = schools.loc[schools["school_code"] == r["school_code"], "school_name"]
        warnings.append(
            {
                **_row_place(r),
                "quoted": [str(r["school_name"])],
                "code": "multi_level_name_differs",
                "message": (
                    f"Mã trường {r['school_code']} có ở nhiều dòng, mỗi dòng một cấp học, "
                    f"nhưng tên khác nhau ('{r['school_name']}' và "
                    f"'{first_name.iat[0]}'): được tính là một trường nhiều cấp học, tên "
                    "theo dòng đầu. Nếu là hai trường khác nhau, hãy sửa mã trường rồi chạy "
                    "lại."
                ),
            }
        )
    return warnings


def _unsplit_warnings(rows: pd.DataFrame, unsplit: np.ndarray) -> list[dict]:
    """A row naming several levels whose counts are not split by level: counted once."""
    warnings = []
    for i in np.flatnonzero(unsplit)[:50]:
        r = rows.iloc[i]
        lv = ", ".join(str(r["levels"]).split(vocab.LEVELS_SEP))
        warnings.append(
            {
                **_row_place(r),
                "code": "multi_level_unsplit",
                "message": (
                    f"Trường {r['school_code']} dạy nhiều cấp ({lv}) nhưng số lớp, số học sinh "
                    "không tách theo cấp: được tính một lần vào Tổng cộng và vào dòng "
                    f"“{vocab.MULTI_LEVEL}”, không vào từng cấp. Để tách, hãy ghi mỗi cấp một "
                    "dòng (cùng mã trường)."
                ),
            }
        )
    return warnings


def _row_place(r: pd.Series) -> dict:
    """The kind and source (file, sheet, row) of a school-list warning at row ``r``."""
    return {
        "kind": "truong",
        "file": r["source_file"],
        "sheet": r["source_sheet"],
        "row": int(r["source_row"]),
    }
