"""Administrative units before and after the 1 July 2025 reform (data contract §7).

Since 1/7/2025 local government has two tiers: the province (tỉnh / thành phố) and the commune
(xã / phường / đặc khu); before, a district (quận / huyện / thị xã) stood between them. A school
keeps its code through the reform; only its ward/commune changed.

- ``don_vi_hanh_chinh.csv`` in the raw root (editable, UTF-8, like ``school_aliases.csv``):
  ``province,old_district,old_ward,commune,note``, one row per old ward, mapping it to today's
  commune (the main destination when the ward was split; the note says where the parts went).
  A raw folder without the file uses the copy shipped with the package (the former Long Biên).
  ``read_crosswalk`` checks it: a bad file is one ``CrosswalkError`` naming the file and row.
- ``assign_units(schools, period, crosswalk)``: the ``province`` and ``commune`` of every school
  for any period: from the list after the reform (``Xã/Phường``), from the crosswalk before
  (the old ward). A pre-reform school whose ward the crosswalk lacks gets no commune and one
  ``commune_unmapped`` warning per ward.
- ``infer_unit(schools, period)``: the report's unit the data says: before the reform a
  district; after, a commune when every school is in one commune, else the province.

Names are compared folded (``text.fold``: case, diacritics, punctuation ignored) with their
administrative prefix (Phường, Xã, Quận, Thành phố...) left out, so "Phường Bồ Đề", "P. Bồ Đề"
and "bo de" are one commune; the name shown is the one the data writes.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.core import text

CROSSWALK_FILE = "don_vi_hanh_chinh.csv"
CROSSWALK_COLUMNS = ("province", "old_district", "old_ward", "commune", "note")
#: The copy of the default crosswalk shipped with the package (the former quận Long Biên).
DEFAULT_CROSSWALK = Path(__file__).resolve().parent / CROSSWALK_FILE
#: The first day of the two-tier local government.
REFORM_DATE = date(2025, 7, 1)
UNITS = ("province", "commune", "district")
UNIT_LABELS = {"province": "tỉnh/thành phố", "commune": "xã/phường", "district": "quận/huyện"}

#: Administrative prefixes left out when two names are compared (folded, longest first).
_PREFIXES = (
    "uy ban nhan dan",
    "thanh pho",
    "thi tran",
    "thi xa",
    "dac khu",
    "phuong",
    "quan",
    "huyen",
    "tinh",
    "ubnd",
    "xa",
    "tp",
    "tx",
    "tt",
    "p",
    "q",
)
_PREFIX_RE = re.compile(r"^(?:(?:" + "|".join(_PREFIXES) + r")\s+)+")
#: Prefixes dropped for the short name of a place ("Phường Bồ Đề" -> "Bồ Đề").
_SHORT_RE = re.compile(
    r"^(?:(?:Ủy ban nhân dân|UBND|Thành phố|TP\.?|Tỉnh|Phường|Xã|Thị trấn|Đặc khu|Quận|Huyện|"
    r"Thị xã)\s+)+",
    re.IGNORECASE,
)


class CrosswalkError(ValueError):
    """A malformed crosswalk file (Vietnamese message naming the file and row)."""


class UnitChoiceError(ValueError):
    """A report unit that the data cannot give (message in Vietnamese)."""


def is_post_reform(period: str | date) -> bool:
    """True for a period on or after 1/7/2025 (no district level)."""
    day = paths.parse_period(period) if isinstance(period, str) else period
    return day >= REFORM_DATE


def name_key(value) -> str | None:
    """The comparison key of a unit's name: folded, administrative prefix left out."""
    return _name_key(value) if isinstance(value, str) else None


@lru_cache(maxsize=1 << 16)
def _name_key(value: str) -> str | None:
    folded = text.fold(value)
    if not folded:
        return None
    short = _PREFIX_RE.sub("", folded).strip()
    return short or folded


def short_name(value: str) -> str:
    """A place's name without its prefix: "Phường Bồ Đề" -> "Bồ Đề", "Thành phố Hà Nội" ->
    "Hà Nội" (the place of the date line)."""
    value = (value or "").strip()
    return _SHORT_RE.sub("", value).strip() or value


#: The centrally-run cities (thành phố trực thuộc trung ương) since 1/7/2025.
CITIES = ("Hà Nội", "Hồ Chí Minh", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Huế")
_AGENCY_RE = re.compile(
    r"^(?:(?:Sở\s+(?:GD\s*&\s*ĐT|GDĐT|GD-ĐT|Giáo dục và Đào tạo)|Ủy ban nhân dân|Uỷ ban nhân dân|"
    r"UBND)\s+)+",
    re.IGNORECASE,
)
_UNIT_WORDS = {
    "thành phố": "Thành phố",
    "tp.": "Thành phố",
    "tp": "Thành phố",
    "tỉnh": "Tỉnh",
    "phường": "Phường",
    "xã": "Xã",
    "đặc khu": "Đặc khu",
    "thị trấn": "Thị trấn",
}


def unit_name(value, province: bool = False) -> str | None:
    """A unit's name as a heading writes it: an agency word in front dropped ("Sở GD&ĐT Hà Nội",
    "UBND phường Bồ Đề"), the unit word capitalised ("phường Bồ Đề" -> "Phường Bồ Đề", "TP. Hà
    Nội" -> "Thành phố Hà Nội"); a province written bare gets its word ("Hà Nội" -> "Thành
    phố Hà Nội", "Bắc Ninh" -> "Tỉnh Bắc Ninh"). A commune written bare stays as it is."""
    name = text.clean_text(value)
    if not name:
        return None
    if name == "Khác":  # a name that held a phone number or an e-mail (``clean``)
        return name
    name = _AGENCY_RE.sub("", name).strip() or name
    lowered = name.lower()
    for word in sorted(_UNIT_WORDS, key=len, reverse=True):
        if lowered.startswith(word + " ") or (word.endswith(".") and lowered.startswith(word)):
            rest = name[len(word) :].strip()
            return f"{_UNIT_WORDS[word]} {rest}" if rest else name
    if province:
        city = name_key(name) in {name_key(c) for c in CITIES}
        return f"{'Thành phố' if city else 'Tỉnh'} {name}"
    return name


def slug(value: str) -> str:
    """A folder name for a unit: "Phường Bồ Đề" -> "phuong-bo-de" (ASCII, hyphens)."""
    folded = text.fold(value) or "khong-ro"
    return re.sub(r"[^a-z0-9]+", "-", folded.replace("đ", "d")).strip("-") or "khong-ro"


# --------------------------------------------------------------------------- crosswalk


def crosswalk_path(raw_root: Path | str) -> Path:
    """The crosswalk a raw folder uses: its own ``don_vi_hanh_chinh.csv``, else the package's."""
    own = Path(raw_root) / CROSSWALK_FILE
    return own if own.is_file() else DEFAULT_CROSSWALK


def _fail(path: Path, row: int | None, what: str) -> CrosswalkError:
    where = f", dòng {row}" if row else ""
    return CrosswalkError(
        f"Tệp đơn vị hành chính {path}{where}: {what} Mở tệp bằng Excel hoặc trình soạn thảo "
        f"văn bản (lưu dạng CSV UTF-8), sửa dòng này rồi chạy lại; các cột cần có: "
        f"{','.join(CROSSWALK_COLUMNS)}."
    )


def read_crosswalk(path: Path | str) -> pd.DataFrame:
    """Read and check a crosswalk file: ``province, old_district, old_ward, commune, note`` and
    ``row`` (the line of the file, header = 1), names cleaned (NFC, spaces).

    Refused with one ``CrosswalkError`` (the file, the row, what to do): not UTF-8, a missing
    column, a row with more cells than the header, an old ward or commune left blank, an old
    ward listed twice with different communes."""
    path = Path(path)
    reader = csv.reader(io.StringIO(_crosswalk_text(path), newline=""))
    header, index = _crosswalk_header(path, reader)
    rows: list[dict] = []
    seen: dict[tuple, tuple[int, str]] = {}
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            row = _crosswalk_row(path, reader.line_num, cells, header, index)
            _check_one_commune(path, row, seen)
            rows.append(row)
    except csv.Error as exc:
        raise _fail(path, reader.line_num, f"không đọc được dạng CSV ({exc}).") from exc
    columns = [*CROSSWALK_COLUMNS, "row"]
    return pd.DataFrame(rows, columns=columns).astype({c: "str" for c in CROSSWALK_COLUMNS})


def _crosswalk_text(path: Path) -> str:
    """The file's text (UTF-8, with or without BOM); refused when not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise _fail(path, line, "có ký tự không phải UTF-8 (tệp lưu bằng bảng mã khác).") from exc


def _crosswalk_header(path: Path, reader) -> tuple[list[str], dict[str, int]]:
    """(header, column -> position); refused when empty or missing a column but ``note``."""
    try:
        header = next(reader)
    except StopIteration:
        raise _fail(path, None, "tệp trống, không có dòng tiêu đề cột.") from None
    names = [str(h).strip().lower() for h in header]
    missing = [c for c in CROSSWALK_COLUMNS if c != "note" and c not in names]
    if missing:
        raise _fail(
            path, 1, f"dòng tiêu đề thiếu cột {', '.join(missing)} (đang có: {', '.join(header)})."
        )
    return header, {c: names.index(c) for c in CROSSWALK_COLUMNS if c in names}


def _crosswalk_row(
    path: Path, line: int, cells: list[str], header: list[str], index: dict[str, int]
) -> dict:
    """One line of the file -> its row (names cleaned, ``row``: the line); refused when it has
    more cells than the header or leaves the old ward or the commune blank."""
    if len(cells) > len(header):
        raise _fail(
            path,
            line,
            f"có {len(cells)} ô nhưng dòng tiêu đề chỉ có {len(header)} cột (có dấu "
            "phẩy trong một tên? Hãy đặt tên đó trong dấu ngoặc kép).",
        )
    cells = cells + [""] * (len(header) - len(cells))
    row = {c: text.clean_text(cells[i]) or "" for c, i in index.items()}
    row.setdefault("note", "")
    for col, label in (("old_ward", "phường/xã cũ"), ("commune", "xã/phường mới")):
        if not row[col]:
            raise _fail(path, line, f"ô {col} ({label}) để trống.")
    return {**row, "row": line}


def _check_one_commune(path: Path, row: dict, seen: dict[tuple, tuple[int, str]]) -> None:
    """An old ward (of a province and district) maps to one commune: a second line giving it
    another commune is refused. ``seen``: ward key -> (first line, commune)."""
    key = (name_key(row["province"]), name_key(row["old_district"]))
    key += (name_key(row["old_ward"]),)
    if key in seen and name_key(seen[key][1]) != name_key(row["commune"]):
        first, commune = seen[key]
        raise _fail(
            path,
            row["row"],
            f"phường/xã cũ “{row['old_ward']}” đã có ở dòng {first} với xã/phường mới "
            f"“{commune}”, dòng này lại ghi “{row['commune']}”. Mỗi phường/xã cũ chỉ "
            "ghi một xã/phường mới (nơi phần lớn địa bàn chuyển về; phần còn lại ghi ở "
            "cột note).",
        )
    seen.setdefault(key, (row["row"], row["commune"]))


def load_crosswalk(raw_root: Path | str) -> tuple[pd.DataFrame, Path]:
    """The crosswalk of a raw folder (its own file, else the package's) and its path."""
    path = crosswalk_path(raw_root)
    return read_crosswalk(path), path


# --------------------------------------------------------------------------- schools


def _lookup(crosswalk: pd.DataFrame) -> tuple[dict, dict]:
    """(district key, ward key) -> row, and ward key -> rows (for a school with no district)."""
    by_pair: dict[tuple, dict] = {}
    by_ward: dict[str, list[dict]] = {}
    for row in crosswalk.to_dict("records"):
        ward = name_key(row["old_ward"])
        by_pair.setdefault((name_key(row["old_district"]), ward), row)
        by_ward.setdefault(ward, []).append(row)
    return by_pair, by_ward


def _find(by_pair: dict, by_ward: dict, district, ward) -> dict | None:
    wk, dk = name_key(ward), name_key(district)
    if wk is None:
        return None
    if dk is not None and (dk, wk) in by_pair:
        return by_pair[(dk, wk)]
    candidates = by_ward.get(wk, [])
    # A row without a district serves any district; a school without a district takes the
    # ward's row when the crosswalk names that ward once.
    loose = [r for r in candidates if name_key(r["old_district"]) is None]
    if loose:
        return loose[0]
    if dk is None and len({name_key(r["commune"]) for r in candidates}) == 1:
        return candidates[0]
    return None


def assign_units(
    schools: pd.DataFrame, period: str, crosswalk: pd.DataFrame, crosswalk_file: str = ""
) -> tuple[pd.DataFrame, list[dict]]:
    """``schools`` with ``ward``, ``province`` and ``commune`` set by the period's rule.

    Input columns (``clean.clean_schools``): ``ward`` (the list's ``Phường``), ``commune``
    (the list's ``Xã/Phường``), ``province``, ``district``. Before 1/7/2025 ``Xã/Phường`` is the
    old ward (``ward`` when ``Phường`` is blank) and the commune comes from the crosswalk; after,
    ``Xã/Phường`` is today's commune (and the ward as the list writes it), and a school with only
    the old ward (``Phường``) is mapped through the crosswalk. The province is the list's, else
    the crosswalk row's. Returns the table and the warnings (one per unmapped old ward)."""
    out = schools.copy()
    listed = _unit_names(out["commune"])
    province = _unit_names(out["province"], province=True)
    ward = out["ward"].astype("object")
    ward = ward.where(ward.notna(), listed)
    if is_post_reform(period):
        commune = listed.copy()
        to_map = commune.isna() & ward.notna()
    else:
        commune = pd.Series(None, index=out.index, dtype="object")
        to_map = ward.notna()
    district = out["district"].astype("object") if "district" in out else None
    unmapped = _map_communes(crosswalk, ward, commune, province, to_map, district)
    out["ward"] = ward.astype("str")
    out["commune"] = commune.astype("str")
    out["province"] = province.astype("str")
    source = crosswalk_file or CROSSWALK_FILE
    names = sorted(unmapped, key=lambda n: (text.fold(n) or "", n))
    return out, [_unmapped_warning(out, name, unmapped[name], source) for name in names]


def _unit_names(values: pd.Series, province: bool = False) -> pd.Series:
    """``unit_name`` of each value (an object Series)."""
    names = [unit_name(v, province=province) for v in values.astype("object").tolist()]
    return pd.Series(names, index=values.index, dtype="object")


def _map_communes(
    crosswalk: pd.DataFrame,
    ward: pd.Series,
    commune: pd.Series,
    province: pd.Series,
    to_map: pd.Series,
    district: pd.Series | None,
) -> dict[str, list[int]]:
    """Set in place the commune of the schools ``to_map`` (through their old ward) and the
    province the list leaves blank (from the crosswalk row). Returns old ward -> positions of
    the schools the crosswalk cannot map."""
    by_pair, by_ward = _lookup(crosswalk)
    by_commune = {name_key(r["commune"]): r for r in crosswalk.to_dict("records")}
    unmapped: dict[str, list[int]] = {}
    for i in range(len(ward)):
        row = None
        if to_map.iat[i]:
            d = district.iat[i] if district is not None else None
            row = _find(by_pair, by_ward, d if pd.notna(d) else None, ward.iat[i])
            if row is None:
                unmapped.setdefault(str(ward.iat[i]), []).append(i)
            else:
                commune.iat[i] = row["commune"]
        elif pd.notna(commune.iat[i]):
            row = by_commune.get(name_key(commune.iat[i]))
        if pd.isna(province.iat[i]) and row is not None and row["province"]:
            province.iat[i] = row["province"]
    return unmapped


def _unmapped_warning(out: pd.DataFrame, name: str, rows: list[int], source: str) -> dict:
    """The ``commune_unmapped`` warning of an old ward the crosswalk lacks, at its first
    school (``rows``: the positions of its schools)."""
    first = rows[0]
    codes = out["school_code"].iloc[rows].astype("str").tolist()
    shown = ", ".join(codes[:5]) + (f" và {len(codes) - 5} trường khác" if len(codes) > 5 else "")
    return {
        "code": "commune_unmapped",
        "kind": "truong",
        "file": str(out["source_file"].iat[first]) if "source_file" in out else "",
        "sheet": str(out["source_sheet"].iat[first]) if "source_sheet" in out else "",
        "row": int(out["source_row"].iat[first]) if "source_row" in out else None,
        "message": (
            f"Phường/xã cũ “{name}” không có trong bảng đơn vị hành chính {source}: "
            f"{len(rows)} trường ({shown}) chưa biết thuộc xã/phường mới nào (để trống). "
            f"Thêm một dòng cho phường “{name}” vào tệp {CROSSWALK_FILE} trong thư mục "
            "dữ liệu thô (chưa có thì chép tệp mặc định của phần mềm: "
            f"src/analysis/core/{CROSSWALK_FILE}) rồi chạy lại bước làm sạch."
        ),
    }


# --------------------------------------------------------------------------- the report's unit


@dataclass(frozen=True)
class Unit:
    """The unit a report is issued for: ``kind`` (province/commune/district) and ``name`` as
    the data writes it ("Phường Bồ Đề", "Thành phố Hà Nội", "Long Biên"); ``province`` is the
    province of a commune ("" if unknown)."""

    kind: str
    name: str
    province: str = ""

    @property
    def slug(self) -> str:
        return slug(self.name)

    @property
    def short(self) -> str:
        return short_name(self.name)


def _names(series: pd.Series | None) -> list[str]:
    if series is None:
        return []
    seen: dict[str, str] = {}
    for value in series.dropna().astype("str"):
        key = name_key(value)
        if key and key not in seen:
            seen[key] = value.strip()
    return sorted(seen.values(), key=lambda n: (text.fold(n) or "", n))


def communes(schools: pd.DataFrame) -> list[str]:
    """The communes of a school list (as written, one per folded name), alphabetical."""
    return _names(schools["commune"] if "commune" in schools.columns else None)


def _one(series: pd.Series | None) -> str:
    names = _names(series)
    return names[0] if len(names) == 1 else ""


def infer_unit(schools: pd.DataFrame, period: str, chosen: str = "") -> Unit:
    """The report's unit: ``chosen`` (province/commune/district) if given, else from the data:
    before 1/7/2025 the district; after, the commune when the schools are all in one, else the
    province. An unknown choice, or ``commune`` for data of several communes, raises
    ``UnitChoiceError`` (Vietnamese)."""
    chosen = (chosen or "").strip().lower()
    if chosen and chosen not in UNITS:
        raise UnitChoiceError(
            f"Đơn vị báo cáo “{chosen}” không hợp lệ: dùng province (Sở GD&ĐT, cả tỉnh/thành "
            "phố), commune (UBND xã/phường) hoặc district (quận/huyện, các kỳ trước 1/7/2025)."
        )
    province = _one(schools.get("province"))
    commune_names = communes(schools)
    kind = chosen or (
        "district"
        if not is_post_reform(period)
        else "commune"
        if len(commune_names) == 1
        else "province"
    )
    if kind == "district":
        names = _names(schools.get("district"))
        return Unit("district", names[0] if len(names) == 1 else "", province)
    if kind == "commune":
        if len(commune_names) != 1:
            raise UnitChoiceError(
                f"Không lập được báo cáo của một xã/phường: dữ liệu có {len(commune_names)} "
                "xã/phường. Dùng --per-commune để lập báo cáo cho từng xã/phường, hoặc chọn "
                "--unit province."
            )
        return Unit("commune", commune_names[0], province)
    return Unit("province", province, province)
