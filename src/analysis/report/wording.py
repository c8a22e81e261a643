"""The report's running text: placeholders, numbers as sentences write them, titles, the unit.

``fill`` replaces the ``{name}`` placeholders of a settings string; ``fmt_plain_int``,
``fmt_speed``, ``fmt_points``, ``fmt_signed_int`` write numbers as the reference report does;
``title_lines`` breaks a bold title where it reads well (measured with ``fontmetrics``);
``unit_values`` / ``unit_label`` name the report's unit; ``appendix_ref`` is the appendix's
"(Kèm theo Báo cáo số ...)" line; ``level_rows`` / ``short_school_name`` are the small table
helpers every section uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from analysis.core.fmt import fmt_int, fmt_num

_PLACEHOLDER = re.compile(
    r"\{(district|place|level|level_upper|as_of|year|prev_date|province|province_short|"
    r"province_of|commune|commune_short|commune_of)\}"
)


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace the known ``{name}`` placeholders of a settings string (others are left)."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def as_number(value) -> float | None:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    return float(value)


def fmt_plain_int(value) -> str:
    """An integer without grouping, as the reference writes counts in running text: 1248."""
    value = as_number(value)
    return "–" if value is None else str(int(round(value)))


def fmt_speed(value) -> str:
    """70.0 -> '70'; 12.5 -> '12,5'."""
    value = as_number(value)
    if value is None:
        return "–"
    return fmt_int(value) if float(value).is_integer() else fmt_num(value, 1)


def fmt_points(delta) -> str:
    """A change of a ratio in percentage points, signed: 0.032 -> '+3,2'."""
    value = as_number(delta)
    if value is None:
        return "–"
    text = fmt_num(abs(value) * 100, 1)
    return ("+" if value > 0 else "−" if value < 0 else "") + text


def fmt_signed_int(delta) -> str:
    value = as_number(delta)
    if value is None:
        return "–"
    return ("+" if value > 0 else "−" if value < 0 else "") + fmt_int(abs(value))


def level_rows(df: pd.DataFrame | None, level: str) -> pd.DataFrame:
    if df is None or df.empty or "level" not in df.columns:
        return pd.DataFrame()
    return df[df["level"] == level]


def short_school_name(name: str, level: str) -> str:
    """'Trường Tiểu học Thượng Thanh' -> 'Thượng Thanh' inside a list of one level's schools."""
    for prefix in (f"Trường {level} ", "Trường "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


#: Words kept on one line in a title (a break between them reads badly: "CÁ / NHÂN").
_KEEP_TOGETHER = ("chữ ký số", "cá nhân", "cán bộ", "giáo viên", "nhân viên", "tiểu học",
                  "mầm non", "các trường", "giáo dục", "đào tạo", "báo cáo số")  # fmt: skip


TITLE_PT = 14


TITLE_WIDTH_CM = 16.5


def title_lines(
    text: str,
    pt: float = TITLE_PT,
    width_cm: float = TITLE_WIDTH_CM,
    bold: bool = True,
    italic: bool = False,
) -> str:
    """A bold centred title broken where it reads well: one line if it fits, else two lines
    as even as possible, never inside a phrase of ``_KEEP_TOGETHER`` (measured in Times New
    Roman, ``analysis.report.fontmetrics``). The line break is a "\n" (docxtpl makes it a w:br)."""
    from analysis.report.fontmetrics import text_width_cm

    def width(line: str) -> float:
        return text_width_cm(line, pt, bold=bold, italic=italic)

    if not text or width(text) <= width_cm:
        return text
    words = text.split(" ")
    forbidden = set()
    for phrase in _KEEP_TOGETHER:
        parts = phrase.split(" ")
        for i in range(len(words) - len(parts) + 1):
            if [w.strip(",()").casefold() for w in words[i : i + len(parts)]] == parts:
                forbidden |= set(range(i + 1, i + len(parts)))
    best = None
    for cut in range(1, len(words)):
        if cut in forbidden:
            continue
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        longest = max(width(first), width(second))
        if best is None or longest < best[0]:
            best = (longest, first, second)
    return text if best is None else f"{best[1]}\n{best[2]}"


def _number_code(number: str) -> str:
    """ "Số: …/BC-SGDĐT" -> "…/BC-SGDĐT" (the number as the appendix cites it)."""
    code = re.sub(r"^\s*Số\s*:?\s*", "", number or "").strip()
    return code or "…/BC-PGDĐT"


def _lower_first(value: str) -> str:
    return value[:1].lower() + value[1:] if value else value


def unit_values(unit: Mapping | None) -> dict[str, str]:
    """The placeholders of the report's unit: ``province``, ``province_short``, ``province_of``
    ("thành phố Hà Nội"), ``commune``, ``commune_short``, ``commune_of`` ("phường Bồ Đề")."""
    from analysis.core.units import short_name

    unit = unit or {}
    province = (unit.get("province") or "").strip()
    commune = (unit.get("name") or "").strip() if unit.get("kind") == "commune" else ""
    return {
        "province": province,
        "province_short": short_name(province),
        "province_of": _lower_first(province),
        "commune": commune,
        "commune_short": short_name(commune),
        "commune_of": _lower_first(commune),
    }


def unit_label(settings: Mapping) -> str:
    """How the workbook's titles name the unit: "quận Long Biên" (a district: ``district``
    of the settings), "phường Bồ Đề", "thành phố Hà Nội"."""
    unit = settings.get("_unit") or {}
    kind = unit.get("kind", "district")
    if kind == "district":
        district = settings.get("district", "")
        return f"quận {district}" if district else ""
    return _lower_first((unit.get("name") or "").strip())


def appendix_ref(text: Mapping[str, str], as_of: str) -> str:
    """'(Kèm theo Báo cáo số …/BC-PGDĐT ngày 19/4/2024 của Phòng Giáo dục và Đào tạo quận
    Long Biên)': the report's date and its issuer (issuing agency + the parent's unit)."""
    issuer = text.get("issuing_agency", "").strip()
    parent = text.get("parent_agency", "").strip()
    unit = re.sub(r"^(UBND|Ủy ban nhân dân)\s+", "", parent, flags=re.IGNORECASE)
    if unit and unit != parent:
        issuer = f"{issuer} {unit}".strip()
    by = f" của {issuer}" if issuer else ""
    text = f"(Kèm theo Báo cáo số {_number_code(text.get('number', ''))} ngày {as_of}{by})"
    return title_lines(text, 14, TITLE_WIDTH_CM, bold=False, italic=True)
