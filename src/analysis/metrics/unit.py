"""The report's unit: the districts of a school list, the fuzzy district match, narrowing the
processed tables to one district or one commune, and the notebook line naming the unit.

Many districts (a city, the ministry): ``select_unit(processed, district)`` narrows the
processed tables to one district ("" = everything). ``coverage_by_district`` and
``scale_by_district`` are made only when the (selected) data spans more than one district
(``has_many_districts``); a one-district run, like the sample, has neither, and
``write_tables`` removes a stale copy.
"""

from __future__ import annotations

from dataclasses import fields, replace

import pandas as pd

from analysis.core import text
from analysis.core.fmt import fmt_int
from analysis.core.units import communes, name_key
from analysis.metrics.load import Processed

NO_DISTRICT = "Không rõ quận/huyện"


NO_COMMUNE = "Chưa rõ xã/phường"


#: Administrative prefixes a user may add or leave out when naming a district (folded).
_DISTRICT_PREFIXES = ("thanh pho", "thi xa", "quan", "huyen", "tp", "tx")


#: How many district names an error message lists.
SHOWN_DISTRICTS = 8


class UnitError(ValueError):
    """The requested reporting unit (district) is not in the data (message in Vietnamese)."""


def _district_series(schools: pd.DataFrame) -> pd.Series:
    """The district of each school; missing or blank -> ``NO_DISTRICT``."""
    if "district" not in schools.columns:
        return pd.Series(NO_DISTRICT, index=schools.index, dtype="str")
    district = schools["district"].astype("str").str.strip()
    return district.where(district.notna() & (district != ""), NO_DISTRICT).astype("str")


def districts(schools: pd.DataFrame) -> list[str]:
    """The districts of the school list, in Vietnamese alphabetical order (``NO_DISTRICT`` last
    when some schools have none)."""
    names = _district_series(schools).unique().tolist()
    return sorted(names, key=lambda name: (name == NO_DISTRICT, text.vn_sort_key(name), name))


def has_many_districts(schools: pd.DataFrame) -> bool:
    """True when the school list spans more than one district: then the district tables
    (``DISTRICT_TABLES``) and the district figure are made; a one-district run has none."""
    return len(districts(schools)) > 1


def _strip_prefix(folded: str) -> str:
    for prefix in _DISTRICT_PREFIXES:
        if folded.startswith(prefix + " "):
            return folded[len(prefix) + 1 :]
    return folded


def _files_text(df: pd.DataFrame, limit: int = 3) -> str:
    if "source_file" not in df.columns or df.empty:
        return "danh sách trường"
    files = sorted(df["source_file"].dropna().astype("str").unique().tolist())
    shown = ", ".join(files[:limit]) + (
        f" và {len(files) - limit} file khác" if len(files) > limit else ""
    )
    return f"danh sách trường ({shown})"


def match_district(schools: pd.DataFrame, district: str) -> str:
    """The district of the school list that ``district`` names (as written in the data).

    Matching ignores case, diacritics and spacing (``text.fold``): ``"long bien"`` finds
    ``"Long Biên"``; a leading Quận/Huyện/Thị xã/Thành phố may be added or left out when that
    leaves one candidate. An unknown or ambiguous name raises ``UnitError`` naming the file and
    listing districts that exist.
    """
    names = [n for n in districts(schools) if n != NO_DISTRICT]
    wanted = text.fold(district) or ""
    folded = {name: text.fold(name) or "" for name in names}
    exact = [name for name in names if folded[name] == wanted]
    if len(exact) == 1:
        return exact[0]
    loose = [name for name in names if _strip_prefix(folded[name]) == _strip_prefix(wanted)]
    if len(loose) == 1 and not exact:
        return loose[0]
    raise _no_match(schools, district, folded, exact or loose)


def _no_match(
    schools: pd.DataFrame, district: str, folded: dict[str, str], candidates: list[str]
) -> UnitError:
    """The error for a district name that matches no district (or several: ``candidates``) of
    the school list (``folded``: its districts and their folds), naming the file."""
    names, wanted, source = list(folded), text.fold(district) or "", _files_text(schools)
    if not names:
        return UnitError(
            f"Không lọc được theo quận/huyện “{district}”: {source} không có cột Quận/Huyện "
            "(hoặc cột này để trống). Thêm cột Quận/Huyện vào danh sách trường rồi chạy lại "
            "bước làm sạch, hoặc để trống tham số district để lập báo cáo cho toàn bộ dữ liệu."
        )
    if candidates:
        return UnitError(
            f"Tên quận/huyện “{district}” khớp với {len(candidates)} quận/huyện trong {source}: "
            f"{', '.join(candidates[:SHOWN_DISTRICTS])}. Hãy ghi đầy đủ tên (kèm Quận/Huyện)."
        )
    from rapidfuzz import fuzz, process

    close = process.extract(
        wanted, folded, scorer=fuzz.WRatio, limit=SHOWN_DISTRICTS, score_cutoff=75
    )
    suggestions = [name for _, _, name in close]
    examples = suggestions or names[:SHOWN_DISTRICTS]
    label = "Tên gần giống" if suggestions else "Ví dụ"
    return UnitError(
        f"Không tìm thấy quận/huyện “{district}” trong {source}. Dữ liệu có "
        f"{fmt_int(len(names))} quận/huyện. {label}: {', '.join(examples)}. Sửa tham số "
        "district cho đúng tên trong cột Quận/Huyện, hoặc để trống để lấy mọi quận/huyện."
    )


def select_unit(processed: Processed, district: str | None) -> Processed:
    """The processed tables narrowed to one district (the report's unit).

    ``""`` or None: everything, unchanged. Otherwise the schools of that district (matched by
    ``match_district``) and every row of the other tables that belongs to one of them (by
    school code). ``quality`` is kept as it is (the accounting is that of the whole cleaning
    run); ``unit`` records the district as written in the data.
    """
    if district is None or not str(district).strip():
        return processed
    name = match_district(processed.schools, str(district))
    return _narrow(processed, _district_series(processed.schools) == name, name)


def select_commune(processed: Processed, commune: str) -> Processed:
    """The processed tables narrowed to the schools of one of today's communes (``schools.
    commune``, prefix, case and diacritics aside: ``units.name_key``): one commune's report of
    a fan-out. A commune the data does not hold raises ``UnitError``."""
    wanted = name_key(commune)
    values = processed.schools["commune"].astype("object").tolist()
    keep = pd.Series(
        [isinstance(v, str) and name_key(v) == wanted for v in values],
        index=processed.schools.index,
        dtype=bool,
    )
    if not keep.any():
        names = communes(processed.schools)
        raise UnitError(
            f"Không có trường nào của xã/phường “{commune}” trong danh sách trường. Dữ liệu có "
            f"{fmt_int(len(names))} xã/phường: {', '.join(names[:SHOWN_DISTRICTS])}."
        )
    return _narrow(processed, keep, str(commune))


def _narrow(processed: Processed, keep: pd.Series, name: str) -> Processed:
    """The schools where ``keep`` holds and every row of the other tables that belongs to one
    of them (by school code); ``quality`` is that of the whole cleaning run."""
    p = processed
    schools = p.schools[keep.to_numpy()].reset_index(drop=True)
    codes = pd.Index(schools["school_code"].unique())

    def narrow(df: pd.DataFrame) -> pd.DataFrame:
        return df[df["school_code"].isin(codes)].reset_index(drop=True)

    # every table of the period (whatever kinds ``Processed`` holds) keyed by school code
    tables = {
        f.name: narrow(getattr(p, f.name))
        for f in fields(p)
        if isinstance(getattr(p, f.name), pd.DataFrame)
        and "school_code" in getattr(p, f.name).columns
    }
    return replace(p, **{**tables, "schools": schools, "unit": name})


class Note(str):
    """A sentence for a notebook: Jupyter shows it as text (Markdown), not as a quoted string."""

    def _repr_markdown_(self) -> str:
        return str(self)


def unit_text(processed: Processed) -> Note:
    """One line for a notebook: which unit the tables cover, e.g. "Đơn vị báo cáo: Long Biên
    (142 trường)" or "Đơn vị báo cáo: toàn bộ dữ liệu, 702 quận/huyện (54.072 trường)"."""
    n_schools = f"{fmt_int(len(processed.schools))} trường"
    if processed.unit:
        return Note(f"Đơn vị báo cáo: {processed.unit} ({n_schools})")
    names = districts(processed.schools)
    if len(names) == 1:
        return Note(f"Đơn vị báo cáo: {names[0]} ({n_schools})")
    return Note(f"Đơn vị báo cáo: toàn bộ dữ liệu, {fmt_int(len(names))} quận/huyện ({n_schools})")


def _district_of(schools: pd.DataFrame) -> pd.Series:
    """school_code -> district (``NO_DISTRICT`` when blank), first row of a code wins."""
    where = pd.Series(_district_series(schools).to_numpy(), index=schools["school_code"].to_numpy())
    return where[~where.index.duplicated()]
