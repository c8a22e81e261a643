"""The one definition of the school levels, their order and the words that name them.

Every module (parse, clean, schemas, metrics, figures, report, report_xlsx, sample_world)
imports its levels from here. Data contract, section 8:

- ``LEVELS``: the levels in their own right, in the order every table and figure shows them:
  Mầm non, Tiểu học, THCS, THPT, GDTX (trung tâm GDNN-GDTX).
- ``MULTI_LEVEL`` ("Trường nhiều cấp học"): the ``level`` of a school that teaches several
  levels (TH&THCS, THCS&THPT, Liên cấp...). It counts once, on its own row, in the number of
  schools (as the Ministry's statistics do); its classes and pupils go to each level it teaches
  (``school_levels``); staff whose level is not given go to this row.
- ``BASE_LEVELS``: the three levels every level table shows even when the data has none of them
  (as before THPT and GDTX existed: the 2024 district report is unchanged); THPT, GDTX and
  ``MULTI_LEVEL`` are shown only where the data has them (``shown_levels``).
- ``TOTAL`` ("Tổng cộng"): the total row, each school counted once.
"""

from __future__ import annotations

from collections.abc import Iterable

MN, TH, THCS, THPT, GDTX = "Mầm non", "Tiểu học", "THCS", "THPT", "GDTX"
LEVELS: tuple[str, ...] = (MN, TH, THCS, THPT, GDTX)
BASE_LEVELS: tuple[str, ...] = (MN, TH, THCS)
MULTI_LEVEL = "Trường nhiều cấp học"
TOTAL = "Tổng cộng"
#: Every value a school's ``level`` may hold (a level, or ``MULTI_LEVEL``), in table order.
SCHOOL_LEVELS: tuple[str, ...] = (*LEVELS, MULTI_LEVEL)
#: Short labels for crowded axes.
#: Staff roles (data contract §4): management, teachers, other staff.
ROLES: tuple[str, ...] = ("CBQL", "GV", "NV")
ROLE_NAMES: dict[str, str] = {"CBQL": "Cán bộ quản lý", "GV": "Giáo viên", "NV": "Nhân viên"}
#: The type of a signature (``staff.cert_type``; ``unknown``: the provider's list does not say).
CERT_TYPE_NAMES: dict[str, str] = {
    "token": "USB Token",
    "remote": "Ký số từ xa",
    "hsm": "HSM",
    "unknown": "Chưa rõ loại",
}

SHORT: dict[str, str] = {MN: "Mầm non", TH: "Tiểu học", MULTI_LEVEL: "Nhiều cấp"}
#: How the levels' text is joined in ``schools.levels`` ("Tiểu học; THCS").
LEVELS_SEP = "; "

#: Folded words (no diacritics, lower case, punctuation as spaces) naming one level.
LEVEL_WORDS: dict[str, frozenset[str]] = {
    MN: frozenset({"mam non", "mn", "nha tre", "mau giao", "mg", "nha tre mau giao", "mnmg"}),
    TH: frozenset({"tieu hoc", "th", "cap 1", "cap i"}),
    THCS: frozenset({"thcs", "trung hoc co so", "cap 2", "cap ii"}),
    THPT: frozenset({"thpt", "trung hoc pho thong", "ptth", "cap 3", "cap iii", "pt th"}),
    GDTX: frozenset(
        {
            "gdtx",
            "giao duc thuong xuyen",
            "trung tam gdtx",
            "gdnn gdtx",
            "trung tam gdnn gdtx",
            "ttgdnn gdtx",
            "tt gdnn gdtx",
            "trung tam giao duc thuong xuyen",
            "trung tam giao duc nghe nghiep giao duc thuong xuyen",
        }
    ),
}
#: Folded words naming a multi-level school without naming its levels (then from the name).
MULTI_WORDS: frozenset[str] = frozenset(
    {"lien cap", "truong lien cap", "nhieu cap", "nhieu cap hoc", "truong nhieu cap hoc"}
)


def order_levels(levels: Iterable[str]) -> tuple[str, ...]:
    """The distinct levels of ``levels`` in the order of ``LEVELS`` (others dropped)."""
    have = set(levels)
    return tuple(lv for lv in LEVELS if lv in have)


def shown_levels(present: Iterable[str], with_multi: bool = True) -> list[str]:
    """The level rows a table shows: ``BASE_LEVELS`` always, THPT and GDTX when present,
    then ``MULTI_LEVEL`` when present (and ``with_multi``), in table order."""
    have = {p for p in present if isinstance(p, str)}
    rows = [lv for lv in LEVELS if lv in BASE_LEVELS or lv in have]
    if with_multi and MULTI_LEVEL in have:
        rows.append(MULTI_LEVEL)
    return rows


def rank(level: str) -> int:
    """Position of a level row: the levels, then ``MULTI_LEVEL``, then ``TOTAL``, then others."""
    order = (*SCHOOL_LEVELS, TOTAL)
    return order.index(level) if level in order else len(order)
