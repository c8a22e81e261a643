"""The one skeleton every kind's cleaner uses.

A kind's tables are stacked (``_stack``: one frame, with ``_tid`` and the source columns);
``_Checks`` records the first failing check of each row (unread formula cells first), builds
the kind's quarantine records; ``_count_check`` / ``date_checks`` parse and check a column;
``_match`` ties rows to the school list; warnings are placed at a row (``_warning_at``,
``_other_warnings`` for text outside a closed vocabulary); ``_total_checks`` compares a sheet's
total row with its data rows. ``KindCheck`` puts them together for a kind tied to schools.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.clean import match
from analysis.core import parse, privacy, schemas, text, vocab
from analysis.core.fmt import fmt_int
from analysis.ingest import RawTable
from analysis.ingest import contract as K

QUARANTINE_COLUMNS = (
    "source_file",
    "source_sheet",
    "source_row",
    "kind",
    "reason",
    "message",
    "column",
    "value",
)


def _stack(tables: list[RawTable]) -> pd.DataFrame:
    """Data rows of several sheets as one frame with ``_tid`` and source columns."""
    frames = []
    for tid, t in enumerate(tables):
        personal = [c for c in t.data.columns if c in K.PERSONAL_COLUMNS]
        # Values as read (str for CSV, object for Excel): every check works per distinct value.
        d = t.data.drop(columns=personal)
        d = d.assign(
            _tid=tid,
            source_file=t.file,
            source_sheet=t.sheet,
            source_row=np.asarray(t.data.index, dtype="int64"),
        )
        frames.append(d.reset_index(drop=True))
    if not frames:
        return pd.DataFrame(
            {
                "_tid": pd.Series([], dtype="int64"),
                "source_file": pd.Series([], dtype="str"),
                "source_sheet": pd.Series([], dtype="str"),
                "source_row": pd.Series([], dtype="int64"),
            }
        )
    df = pd.concat(frames, ignore_index=True)
    df["source_file"] = df["source_file"].astype("str")
    df["source_sheet"] = df["source_sheet"].astype("str")
    df["source_row"] = df["source_row"].astype("int64")
    df["_tid"] = df["_tid"].astype("int64")
    return df


def _source(df: pd.DataFrame) -> dict[str, pd.Series]:
    """The source columns (file, sheet, row) every processed table carries."""
    return {col: df[col] for col in schemas.SOURCE_COLUMNS}


def _level_of(school_codes: pd.Series, schools: pd.DataFrame, column: str = "level") -> pd.Series:
    """The level (Cấp học) of each matched school code, from the school list.

    Looked up once per distinct code (``map`` on the distinct codes, spread back by their
    factorisation), not once per row."""
    codes, uniques = pd.factorize(school_codes, use_na_sentinel=True)
    levels = pd.Series(uniques).map(
        pd.Series(schools[column].to_numpy(), index=schools["school_code"])
    )
    return pd.Series(
        levels.array.take(codes, allow_fill=True), index=school_codes.index, name=school_codes.name
    )


def _own_level(
    level: pd.Series, own: pd.Series | np.ndarray, school_codes: pd.Series, schools: pd.DataFrame
) -> tuple[pd.Series, np.ndarray]:
    """(``level`` with each row of a multi-level school given its ``own`` level where the
    school teaches that level, the rows that took it). ``own``: a level per row, or not a
    level (missing, "")."""
    taught = _level_of(school_codes, schools, "levels")
    own = np.asarray(own, dtype=object)
    fits = [
        isinstance(o, str) and bool(o) and isinstance(t, str) and o in t.split(vocab.LEVELS_SEP)
        for o, t in zip(own.tolist(), taught.tolist(), strict=True)
    ]
    multi = (level == vocab.MULTI_LEVEL).fillna(False).to_numpy(dtype=bool)
    use = multi & np.asarray(fits, dtype=bool)
    return level.mask(use, own), use


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series(None, index=df.index, dtype=object)


def _display(s: pd.Series) -> pd.Series:
    """Raw values as short text for messages (per unique value), with phone numbers and
    e-mail addresses masked (``privacy.mask_contacts``); missing -> ""."""

    def show(v):
        if isinstance(v, pd.Timestamp):
            return f"{v.day:02d}/{v.month:02d}/{v.year}"
        return privacy.mask_contacts(text.clean_text(v) or "")

    return text.map_unique(s, show).fillna("")


def _shown(s: pd.Series):
    """``_display`` of ``s`` as a function of a row mask (computed for those rows only)."""
    return lambda rows: _display(s[rows])


def _type_mask(s: pd.Series, predicate) -> pd.Series:
    """``predicate(value)`` per unique value (missing -> False)."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    facts = [bool(predicate(v)) for v in text.unique_values(uniques)]
    per_code = np.array([*facts, False], dtype=bool)  # code -1 (missing) -> the last slot
    return pd.Series(per_code[codes], index=s.index, name=s.name)


def _is_text_cell(s: pd.Series) -> pd.Series:
    return _type_mask(s, lambda v: isinstance(v, str))


def _is_number_cell(s: pd.Series) -> pd.Series:
    return _type_mask(
        s,
        lambda v: isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool),
    )


def _contact_mask(s: pd.Series) -> pd.Series:
    """True where a text cell holds a phone-like digit run or an e-mail address."""
    return _type_mask(s, privacy.contains_contact)


def _tally(stats: dict[str, int], key: str, n) -> None:
    """Add ``n`` to the repair count ``stats[key]``."""
    stats[key] = stats.get(key, 0) + int(n)


def _warning_at(df: pd.DataFrame, i: int, code: str, kind: str, **fields) -> dict:
    """A ``quality.json`` warning at row ``i`` of a stacked frame (its file, sheet, row)."""
    return {
        "code": code,
        "kind": kind,
        "file": df["source_file"].iat[i],
        "sheet": df["source_sheet"].iat[i],
        "row": int(df["source_row"].iat[i]),
        **fields,
    }


def _unknown_width_warning(df: pd.DataFrame, numeric: pd.Series, kind: str, label: str) -> dict:
    """A column's codes stored as numbers with none stored as text: the width is unknown."""
    first = int(np.flatnonzero(numeric.to_numpy())[0])
    return _warning_at(
        df,
        first,
        "code_width_unknown",
        kind,
        message=(
            f"{label} ở {fmt_int(int(numeric.sum()))} dòng được lưu dạng số (Excel bỏ các số 0 "
            f"ở đầu) và không có mã nào lưu dạng chữ để biết độ dài đúng: giữ nguyên như đã "
            f"đọc. Nếu mã có số 0 ở đầu, hãy định dạng cột {label} là Text (chữ) trong Excel, "
            "nhập lại mã rồi chạy lại."
        ),
    )


def date_checks(
    df: pd.DataFrame,
    checks: _Checks,
    columns: tuple[tuple[str, str], ...],
    stats: dict[str, int] | None = None,
) -> dict[str, pd.Series]:
    """The dates of ``columns`` (canonical name, Vietnamese label), day first; a cell that is
    not a date is refused (``bad_date``, quoting it). With ``stats``, the dates read from text
    and from Excel serial numbers are counted (``date_text``, ``date_serial``)."""
    dates = {}
    for col, label in columns:
        raw = _col(df, col)
        values, bad = parse.parse_date_vn(raw)
        dates[col] = values
        shown = _shown(raw)
        checks.add(
            "bad_date",
            bad,
            col,
            shown,
            lambda rows, label=label, shown=shown: (
                f"{label} '"
                + shown(rows)
                + f"' không đọc được: cần {parse.EXPECTED_FORMAT['date']}. Hãy "
                "sửa ô này rồi chạy lại."
            ),
        )
        if stats is not None:
            is_text = _is_text_cell(raw) & values.notna()
            is_num = _is_number_cell(raw) & values.notna()
            _tally(stats, "date_text", is_text.sum())
            _tally(stats, "date_serial", is_num.sum())
    return dates


def _missing_text(index: pd.Index) -> pd.Series:
    """``pd.Series(None, index=index, dtype="str")``, built from a pyarrow array of nulls
    (several times faster than pandas spreading the scalar)."""
    return pd.Series(pd.array(pa.nulls(len(index), pa.large_string()), dtype="str"), index=index)


class _Checks:
    """Row checks of one stacked frame: the first failing reason per row wins."""

    def __init__(self, df: pd.DataFrame, kind: str, tables: list[RawTable]):
        self.df = df
        self.kind = kind
        self.tables = tables
        self.reason = _missing_text(df.index)
        self.column = _missing_text(df.index)
        self.value = _missing_text(df.index)
        self.message = _missing_text(df.index)
        self._unread_cells()

    def _unread_cells(self) -> None:
        """First of every kind's checks: a data row holding a formula saved without a value
        or an error value (``RawTable.unread_cells``) is refused, naming the cell
        (``formula_no_value``/``formula_error``); its blank is never read as a value (data
        contract section 3)."""
        found = [
            (tid, row, reason, column, message)
            for tid, t in enumerate(self.tables)
            for row, (reason, column, message) in t.unread_cells.items()
        ]
        if not found:
            return
        cells = pd.DataFrame(found, columns=["_tid", "source_row", "reason", "col", "msg"])
        at = self.df[["_tid", "source_row"]].merge(cells, on=["_tid", "source_row"], how="left")
        at.index = self.df.index
        for (reason, column), _ in cells.groupby(["reason", "col"], sort=True):
            rows = (at["reason"] == reason) & (at["col"] == column)
            self.add(reason, rows, column, "", at["msg"])

    def add(self, reason: str, mask: pd.Series, column: str, value, message) -> None:
        """Refuse the rows of ``mask`` not refused yet. ``value``/``message``: a Series, a
        scalar, or a function of the rows' boolean mask returning either for those rows only
        (so that nothing is formatted for rows that pass, e.g. a million good ones)."""
        new = (mask.fillna(False).astype(bool) & self.reason.isna()).to_numpy()
        if not new.any():
            return
        self.reason[new] = reason
        self.column[new] = column
        self.value[new] = self._rows(value, new).astype("str").fillna("")
        self.message[new] = self._rows(message, new).astype("str")

    def _rows(self, value, new: np.ndarray) -> pd.Series:
        """``value`` (Series, scalar or function of the mask) on the rows of ``new``."""
        if callable(value):
            value = value(new)
            if isinstance(value, pd.Series):
                return value
            return pd.Series(value, index=self.df.index[new])
        val = value if isinstance(value, pd.Series) else pd.Series(value, index=self.df.index)
        return val[new]

    def add_match(self, m: match.MatchResult) -> None:
        bad = m.reason.notna()
        for reason in sorted(m.reason[bad].unique()):
            sel = m.reason == reason
            col = m.column.where(sel)
            # column per row differs (name or code): add per column value.
            for c in sorted(col.dropna().unique()):
                rows = sel & (m.column == c)
                self.add(reason, rows, c, m.value.fillna(""), m.message)

    @property
    def refused(self) -> pd.Series:
        return self.reason.notna()

    def quarantine(self) -> pd.DataFrame:
        """One record per refused row; the blamed column named by its source header, the
        message prefixed with the row's place (file, sheet, row)."""
        bad = self.refused.to_numpy()
        if not bad.any():  # (selecting no row of a big frame is not free)
            return _empty_quarantine()
        df = self.df.loc[bad]
        if df.empty:
            return _empty_quarantine()
        q = pd.DataFrame(
            {
                "_tid": df["_tid"].to_numpy(),
                "source_file": df["source_file"].to_numpy(),
                "source_sheet": df["source_sheet"].to_numpy(),
                "source_row": df["source_row"].to_numpy(),
                "kind": self.kind,
                "reason": self.reason[bad].to_numpy(),
                "message": self.message[bad].to_numpy(),
                "column": self.column[bad].to_numpy(),
                "value": self.value[bad].to_numpy(),
            }
        )
        headers = self._headers()
        if len(headers):
            q = q.merge(headers, on=["_tid", "column"], how="left")
            q["column"] = q["header"].fillna(q["column"])
        q["message"] = _where(q) + q["message"].astype("str")
        return _conform_quarantine(q)

    def _headers(self) -> pd.DataFrame:
        """The source header text of each canonical column, per sheet."""
        headers = pd.DataFrame(
            [
                (tid, canon, src)
                for tid, t in enumerate(self.tables)
                for canon, src in sorted(t.columns.items())
            ],
            columns=["_tid", "column", "header"],
        )
        if len(headers):
            headers["_tid"] = headers["_tid"].astype("int64")
        return headers


def _where(q: pd.DataFrame) -> pd.Series:
    """``Tệp “f”, trang “s”, dòng n: `` of each quarantine record (no sheet for a CSV)."""
    return (
        "Tệp “"
        + q["source_file"].astype("str")
        + "”"
        + np.where(q["source_sheet"].astype("str") != "", ", trang “" + q["source_sheet"] + "”", "")
        + ", dòng "
        + q["source_row"].astype("str")
        + ": "
    )


def _empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {
            c: pd.Series([], dtype="int64" if c == "source_row" else "str")
            for c in QUARANTINE_COLUMNS
        }
    )


def _conform_quarantine(q: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({c: q[c] for c in QUARANTINE_COLUMNS})
    for c in QUARANTINE_COLUMNS:
        out[c] = out[c].astype("int64" if c == "source_row" else "str")
    out["value"] = out["value"].fillna("")
    out["column"] = out["column"].fillna("")
    return out.reset_index(drop=True)


def _count_check(
    checks: _Checks,
    df: pd.DataFrame,
    column: str,
    label: str,
    required: bool,
    parsed: dict[str, pd.Series],
    *,
    stats: dict[str, int] | None = None,
) -> None:
    """Parse a count column into ``parsed[column]``; refuse missing/bad/negative values."""
    raw = _col(df, column)
    values, bad = parse.parse_int_vn(raw)
    parsed[column] = values
    shown = _shown(raw)
    if required:
        checks.add(
            "missing_count",
            values.isna() & ~bad,
            column,
            "",
            f"Thiếu {label}. Hãy điền số (số nguyên ≥ 0) rồi chạy lại.",
        )
    checks.add(
        "bad_number",
        bad,
        column,
        shown,
        lambda rows: (
            f"{label} '" + shown(rows) + f"' không đọc được: cần {parse.EXPECTED_FORMAT['int']}. "
            "Hãy sửa ô này rồi chạy lại."
        ),
    )
    checks.add(
        "negative_count",
        values < 0,
        column,
        shown,
        lambda rows: f"{label} '" + shown(rows) + "' là số âm. Hãy sửa thành số ≥ 0 rồi chạy lại.",
    )
    if stats is not None:
        _tally(stats, "number_text", (_is_text_cell(raw) & values.notna() & ~bad).sum())


def _match(df: pd.DataFrame, schools: pd.DataFrame, aliases: pd.DataFrame) -> match.MatchResult:
    names = df["school_name"] if "school_name" in df.columns else None
    codes = df["school_code"] if "school_code" in df.columns else None
    if names is None and codes is None:  # cannot happen for a recognised kind
        names = pd.Series(None, index=df.index, dtype="str")

    # Built only if some name is ambiguous (a 1,66 million-row concatenation otherwise).
    def groups() -> pd.Series:
        return df["source_file"] + "\x1f" + df["source_sheet"]

    m = match.match_schools(names, codes, schools, aliases, groups=groups)
    if not len(m.unmatched):  # every row matched: no message, nothing to mask
        return m
    # The raw names and codes shown in messages are masked; the list's codes are not personal.
    keep = frozenset(schools["school_code"].dropna().tolist())
    m.value = privacy.mask_contacts_series(m.value)
    m.message = privacy.mask_contacts_series(m.message, keep)
    m.unmatched = m.unmatched.assign(
        school_code_raw=privacy.mask_contacts_series(m.unmatched["school_code_raw"]),
        school_name_raw=privacy.mask_contacts_series(m.unmatched["school_name_raw"]),
    )
    return m


def _count_methods(stats: dict[str, int], m: match.MatchResult, raw_codes: pd.Series | None):
    counts = m.method_counts()
    for method in ("name", "alias", "ascii"):
        _tally(stats, f"school_{method}", counts[method])
    if raw_codes is not None:
        parsed, _ = parse.parse_code(raw_codes)
        padded = (m.method == "code") & (parsed.str.len() < m.school_code.str.len())
        _tally(stats, "code_padded", padded.fillna(False).sum())


def _unmatched_table(kind: str, m: match.MatchResult) -> pd.DataFrame:
    u = m.unmatched.copy()
    u.insert(0, "kind", kind)
    return u


def _total_checks(
    tables: list[RawTable], df: pd.DataFrame, parsed: dict[str, pd.Series], columns: list[str]
) -> list[dict]:
    """Compare the last total row of each sheet with the sum of its data rows."""
    out = []
    for tid, t in enumerate(tables):
        if t.totals is None or len(t.totals) == 0:
            continue
        total_row = t.totals.iloc[[-1]]
        row_no = int(t.totals.index[-1])
        sel = (df["_tid"] == tid).to_numpy()
        for col in columns:
            if col not in t.totals.columns or col not in parsed:
                continue
            reported, bad = (
                parse.parse_int_vn(total_row[col])
                if col != "speed_mbps"
                else parse.parse_float_vn(total_row[col])
            )
            rep = reported.iloc[0]
            if pd.isna(rep) or bool(bad.iloc[0]):
                continue
            computed = int(parsed[col][sel].fillna(0).clip(lower=0).sum())
            out.append(
                {
                    "kind": t.kind,
                    "file": t.file,
                    "sheet": t.sheet,
                    "row": row_no,
                    "column": col,
                    "reported": int(rep),
                    "computed": computed,
                    "ok": bool(int(rep) == computed),
                }
            )
    return out


def _total_warnings(checks: list[dict]) -> list[dict]:
    return [
        {
            "code": "total_mismatch",
            "kind": c["kind"],
            "file": c["file"],
            "sheet": c["sheet"],
            "row": c["row"],
            "message": (
                f"Dòng tổng ghi {c['column']} = {c['reported']} nhưng tổng các dòng dữ liệu là "
                f"{c['computed']}. Số liệu vẫn được dùng theo từng dòng; hãy kiểm tra lại dòng "
                "tổng hoặc các dòng bị cách ly."
            ),
        }
        for c in checks
        if not c["ok"]
    ]


#: Most warnings listed per column for text outside its closed vocabulary (the count of
#: rows is in ``repairs``; one more warning says how many distinct values were not listed).
OTHER_WARNINGS_MAX = 50


def _other_warnings(
    kind: str,
    df: pd.DataFrame,
    raw: pd.Series,
    rows: pd.Series,
    label: str,
    written: str,
    stats: dict[str, int],
    stat_key: str,
) -> list[dict]:
    """Warnings for the kept rows of ``rows`` whose ``raw`` text left a closed vocabulary (it
    is written as ``written``): one per distinct text, masked, at its first row; the number
    of rows is counted in ``stats[stat_key]`` (only when there is one)."""
    sel = rows.fillna(False).to_numpy(dtype=bool)
    if not sel.any():
        return []
    _tally(stats, stat_key, sel.sum())
    shown = _display(raw[sel])
    first = pd.DataFrame({"shown": shown.to_numpy(), "i": np.flatnonzero(sel)})
    groups = first.groupby("shown", sort=False)["i"].agg(["first", "size"])
    groups = groups.sort_values("first", kind="stable")
    message = (
        "{label} '{value}' không thuộc danh mục: ghi là “{written}” ở {n} dòng (dòng này và các "
        "dòng cùng nội dung). Số điện thoại và e-mail đã được che; hãy sửa ô theo danh mục (tên,"
        " số điện thoại không ghi vào cột này) rồi chạy lại."
    )
    out = [
        _warning_at(
            df,
            i,
            "free_text_other",
            kind,
            quoted=[value],
            message=message.format(label=label, value=value, written=written, n=int(n)),
        )
        for value, (i, n) in groups.head(OTHER_WARNINGS_MAX).iterrows()
    ]
    if len(groups) > OTHER_WARNINGS_MAX:
        out.append(_more_other_warning(kind, df, groups, label, written))
    return out


def _more_other_warning(
    kind: str, df: pd.DataFrame, groups: pd.DataFrame, label: str, written: str
) -> dict:
    """The one warning for the distinct texts beyond ``OTHER_WARNINGS_MAX`` (``groups``: first
    row and size per text, in order of first row)."""
    more = groups.iloc[OTHER_WARNINGS_MAX:]
    return _warning_at(
        df,
        int(more["first"].iat[0]),
        "free_text_other",
        kind,
        message=(
            f"Còn {len(more)} nội dung khác của cột {label} không thuộc danh mục "
            f"({int(more['size'].sum())} dòng), cũng ghi là “{written}”."
        ),
    )


@dataclass
class _KindOut:
    table: pd.DataFrame
    quarantine: pd.DataFrame
    kept_mask: pd.Series  # per stacked row
    stacked: pd.DataFrame
    stats: dict[str, int] = field(default_factory=dict)
    warnings: list[dict] = field(default_factory=list)
    total_checks: list[dict] = field(default_factory=list)
    unmatched: pd.DataFrame | None = None
    #: ``school_levels`` (the school list only): one row per school and level it teaches.
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)


class KindCheck:
    """The skeleton of one kind's cleaner: its tables stacked, the row checks, the repairs
    counted (``stats``), the warnings, the parsed columns and, for a kind tied to schools, the
    match of every row to the school list (its refusals are the first checks after the unread
    cells). A cleaner adds its checks in order, then ``result`` builds its ``_KindOut``."""

    def __init__(
        self,
        kind: str,
        tables: list[RawTable],
        schools: pd.DataFrame | None = None,
        aliases: pd.DataFrame | None = None,
    ):
        self.kind, self.tables = kind, tables
        self.df = _stack(tables)
        self.checks = _Checks(self.df, kind, tables)
        self.stats: dict[str, int] = {}
        self.warnings: list[dict] = []
        self.parsed: dict[str, pd.Series] = {}
        self.match: match.MatchResult | None = None
        if schools is not None:
            self.match_schools(schools, aliases)

    def match_schools(self, schools: pd.DataFrame, aliases: pd.DataFrame) -> None:
        """Tie every row to a school (``_match``), refuse the rows not tied, count how."""
        df = self.df
        self.match = _match(df, schools, aliases)
        self.checks.add_match(self.match)
        raw_codes = df["school_code"] if "school_code" in df.columns else None
        _count_methods(self.stats, self.match, raw_codes)

    def count(self, column: str, label: str, required: bool = True) -> pd.Series:
        """``_count_check`` of ``column``: its parsed values (also in ``parsed``)."""
        _count_check(self.checks, self.df, column, label, required, self.parsed, stats=self.stats)
        return self.parsed[column]

    def duplicate_school(self, value: pd.Series, before: str) -> None:
        """Refuse a school listed again on a later row (among the rows not refused yet): the
        first row wins. ``before``: where the first row is (``một dòng trước``...)."""
        code = self.match.school_code
        ok_code = code.where(self.checks.reason.isna())
        self.checks.add(
            "duplicate_school",
            ok_code.notna() & ok_code.duplicated(keep="first"),
            "school_name" if "school_name" in self.df.columns else "school_code",
            value,
            "Trường " + code.fillna("") + f" đã có ở {before}: dòng này bị bỏ qua. Hãy xoá dòng "
            "lặp rồi chạy lại.",
        )

    @property
    def kept(self) -> pd.Series:
        """The rows no check refused (read after the last check)."""
        return ~self.checks.refused

    def kept_rows(self, columns: dict[str, pd.Series]) -> pd.DataFrame:
        """The kept rows of ``columns``, with their source columns."""
        return pd.DataFrame({**columns, **_source(self.df)})[self.kept.to_numpy()]

    def result(self, table: pd.DataFrame, totals: list[str], extra: dict | None = None) -> _KindOut:
        """The kind's ``_KindOut``: ``table`` (the processed rows), the quarantine, the
        comparison of each sheet's total row with its kept rows on the ``totals`` columns
        (mismatches are warnings, after the kind's own)."""
        kept = self.kept
        kk = kept.to_numpy()
        parsed = {k: v[kk] for k, v in self.parsed.items()}
        tc = _total_checks(self.tables, self.df[kk], parsed, totals)
        warnings = self.warnings + _total_warnings(tc)
        quarantine, extra = self.checks.quarantine(), extra or {}
        out = _KindOut(table, quarantine, kept, self.df, self.stats, warnings, tc, extra=extra)
        if self.match is not None:
            out.unmatched = _unmatched_table(self.kind, self.match)
        return out
