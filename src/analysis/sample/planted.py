"""What the 2023-2024 generator planted where, and the record it writes as
``data/sample_planted.json``: :class:`Planted` (defects, sources, counts rows as they are written),
:func:`slim` (a sheet layout as the record keeps it) and :class:`PlantedRecord` (the expected
totals a correct cleaning must find, per level and per school, and the whole record)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import paths
from analysis.core.vocab import BASE_LEVELS, MN, TH, TOTAL
from analysis.sample.cast import (
    ALIASES,
    COUNTS_ONLY,
    MOVED_TO,
)
from analysis.sample.world import (
    PERIODS,
    REF,
    status_at,
)


class Planted:
    """What the generator planted where (1-based rows as Excel or a text editor shows)."""

    def __init__(self) -> None:
        self.defects: list[dict] = []
        self.sources: list[dict] = []
        self.counts_rows: list[dict] = []

    def add(
        self,
        file: str,
        sheet: str,
        rows,
        kind: str,
        defect: str,
        expected: str,
        reason: str | None = None,
        note: str | None = None,
        **extra,
    ) -> None:
        rows = [int(r) for r in np.atleast_1d(rows)]
        if not rows:
            return
        entry = {"file": file, "sheet": sheet, "row": rows[0], "kind": kind, "defect": defect}
        entry["expected"] = expected
        if reason:
            entry["reason"] = reason
        if len(rows) > 1:
            entry["rows"] = rows
        if note:
            entry["note"] = note
        entry.update(extra)
        self.defects.append(entry)


def slim(lay: dict) -> dict:
    keys = ("header_rows", "first_row", "last_row", "total_row", "title_rows", "footer_rows")
    out = {k: lay[k] for k in keys if k in lay and lay[k] not in (None, [])}
    if "columns" in lay:
        out["columns"] = lay["columns"]
    return out


def source_entry(period: str, rel: str, lay: dict, kind: str, level, **extra) -> dict:
    """The record's entry for a written file (or sheet): where its header and data rows are."""
    entry = {"period": period, "file": rel, "sheet": lay.get("sheet", ""), "kind": kind}
    entry["level"] = level
    entry.update(slim(lay))
    entry.update(extra)
    return entry


def counts_row(period, rel, sheet, row, code, level, n_staff, n_signed, superseded) -> dict:
    """The record's entry for a row of a counts form, as written."""
    return {
        "period": period,
        "file": rel,
        "sheet": sheet,
        "row": row,
        "school_code": code,
        "level": level,
        "n_staff": n_staff,
        "n_signed": n_signed,
        "superseded": superseded,
    }


def _per_school(persons: pd.DataFrame, i: int, counts_codes: set) -> pd.DataFrame:
    """Per school at period ``i``: active, signed and pending staff (no pending for the
    schools that send counts only)."""
    st = status_at(persons, i)
    act = st["active"].to_numpy()
    frame = pd.DataFrame(
        {
            "code": persons["school_code"],
            "level": persons["level"],
            "n_staff": act,
            "n_signed": act & st["signed"].to_numpy(),
            "n_pending": act & st["pending"].to_numpy(),
        }
    )
    per = frame.groupby("code")[["n_staff", "n_signed", "n_pending"]].sum()
    per.loc[per.index.isin(counts_codes), "n_pending"] = 0
    return per


def _total_stats(lv_stats: dict, i: int) -> dict:
    """The all-levels row: sums of the school and pupil counts (and IT from the REF period)."""
    keys = ("n_schools", "n_classes", "n_pupils", "n_pupils_with_id", "n_pupils_verified")
    tot = {k: sum(lv_stats[lv][k] for lv in BASE_LEVELS) for k in keys}
    for k in ("n_fibre", "n_computers"):
        tot[k] = sum(lv_stats[lv][k] for lv in BASE_LEVELS) if i >= REF else None
    return tot


def pupil_totals(rows: pd.DataFrame) -> dict:
    """Classes and pupils (with an id, verified) of the school rows ``rows``."""
    return {
        "n_classes": int(rows["n_classes"].sum()),
        "n_pupils": int(rows["n_pupils"].sum()),
        "n_pupils_with_id": int(rows["n_pupils_with_id"].sum()),
        "n_pupils_verified": int(rows["n_pupils_verified"].sum()),
    }


def record_totals(cl: pd.DataFrame) -> dict:
    """The record signing of the classes ``cl``: records, pupils, signed by teacher and
    principal."""
    return {
        "n_records": len(cl),
        "n_record_pupils": int(cl["n_pupils"].sum()),
        "n_signed_teacher": int(cl["n_signed_teacher"].sum()),
        "n_signed_principal": int(cl["n_signed_principal"].sum()),
    }


class PlantedRecord:
    """The generator's record of what it planted (a mixin of the generator)."""

    def _expected(self) -> tuple[dict, dict]:
        """The totals a correct cleaning must find: per period and level, and per school."""
        counts_codes = {self.code_of[k] for k in COUNTS_ONLY}
        expected: dict = {}
        by_school: dict = {}
        for i, period in enumerate(PERIODS):
            per = _per_school(self.world.persons, i, counts_codes)
            by_school[period] = {
                c: {
                    "level": self.level_of[c],
                    "n_staff": int(r.n_staff),
                    "n_signed": int(r.n_signed),
                    "n_pending": int(r.n_pending),
                    "basis": "counts" if c in counts_codes else "list",
                }
                for c, r in per.sort_index().iterrows()
            }
            lv_stats = {level: self._level_stats(i, level, per) for level in BASE_LEVELS}
            lv_stats[TOTAL] = _total_stats(lv_stats, i)
            expected[period] = lv_stats
        return expected, by_school

    def _level_stats(self, i: int, level: str, per: pd.DataFrame) -> dict:
        """One level's expected figures at period ``i`` (None where the period has none)."""
        w = self.world
        sl = w.schools[w.schools["level"] == level]
        d = {"n_schools": len(sl), **pupil_totals(sl)}
        if level == MN:
            d.update(n_staff=None, n_signed=None, n_pending=None)
        else:
            sub = per.loc[per.index.isin(sl["school_code"])]
            d.update({k: int(sub[k].sum()) for k in ("n_staff", "n_signed", "n_pending")})
            d["n_schools_reporting"] = int(len(sub))
        if i >= REF:
            inf = w.infra[w.infra["level"] == level]
            d["n_fibre"] = int(inf["n_fibre"].sum())
            d["n_computers"] = int(inf["n_computers"].sum())
            d["speed_min"] = int(inf["speed_mbps"].min())
        else:
            d["n_fibre"] = d["n_computers"] = d["speed_min"] = None
        if i == len(PERIODS) - 1 and level == TH:
            cl = w.classes
            d.update(record_totals(cl))
        else:
            d["n_records"] = d["n_record_pupils"] = None
            d["n_signed_teacher"] = d["n_signed_principal"] = None
        return d

    def _personal_values(self) -> dict:
        p = self.world.persons
        take = p.iloc[:: max(1, len(p) // 600)]
        birth = pd.to_datetime(take["birth_date"])
        return {
            "note": "mẫu một phần (mỗi người thứ k) dữ liệu cá nhân giả có trong các file thô",
            "staff_id_is_not_personal": True,
            "full_name": sorted(set(take["full_name"])),
            "birth_date": sorted(
                set(birth.dt.strftime("%d/%m/%Y")) | set(birth.dt.strftime("%Y-%m-%d"))
            ),
            "id_number": sorted(set(take["id_number"])),
            "phone": sorted(set(take["phone"])),
            "email": sorted(set(take["email"])),
        }

    def _planted_json(self) -> dict:
        expected, by_school = self._expected()
        s = self.world.schools.sort_values("order")
        c = self.code_of
        rules = {
            "duplicate_person": "cùng Mã định danh hai lần trong một file, hai dòng giống hệt: "
            "tính một lần",
            "moved_person": "cùng Mã định danh trong file của hai trường (cùng cấp Tiểu học, đều "
            "Đang làm việc, cùng chữ ký số): tính một lần; tổng theo cấp học không phụ thuộc "
            "trường được chọn; theo thế giới mẫu người này thuộc trường "
            f"{c[MOVED_TO]} ({self.name_of[c[MOVED_TO]]})",
            "list_and_counts": "trường vừa có danh sách vừa có dòng tổng hợp: danh sách thắng, "
            "dòng tổng hợp superseded",
            "n_pending": "chỉ tính từ danh sách; trường chỉ gửi số tổng hợp có n_pending = 0",
            "refused_rows": "mọi dòng bị từ chối đều là dòng thêm vào, không thuộc tổng expected",
        }
        return {
            "sample": True,
            "label": paths.SAMPLE_LABEL,
            "seed": self.seed,
            "periods": list(PERIODS),
            "reference_period": PERIODS[REF],
            "district": "Long Biên",
            "rules": rules,
            "expected": expected,
            "expected_by_school": by_school,
            "schools": [
                {
                    "school_code": r.school_code,
                    "school_name": r.school_name,
                    "level": r.level,
                    "ownership": r.ownership,
                    "ward": r.ward,
                }
                for r in s.itertuples(index=False)
            ],
            "aliases": [{"alias": a, "school_code": c[k], "note": n} for a, k, n in ALIASES],
            "near_twins": [
                [c[(TH, "Thạch Bàn A")], c[(TH, "Thạch Bàn B")]],
                [c[(TH, "Ngọc Thụy A")], c[(TH, "Ngọc Thụy B")]],
                [c[(MN, "Long Biên A")], c[(MN, "Long Biên B")]],
            ],
            "files": sorted(set(self.files)),
            "sources": self.planted.sources,
            "counts_rows": self.planted.counts_rows,
            "defects": self.planted.defects,
            "personal_values": self._personal_values(),
        }
