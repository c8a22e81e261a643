"""The 2023-2024 sample generator: :func:`generate` builds the world from a seed, writes the
district's files (:mod:`.district`), the schools' messy files (:mod:`.messy`), the alias list
and the note, then the record (:mod:`.planted`) and, unless told not to, the school year
2025-2026 (:mod:`.reform`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import paths
from analysis.core.vocab import TH, THCS
from analysis.sample.cast import (
    ALIAS_IN_LIST,
    ALIASES,
    BOM_SCHOOL,
    COUNTS_ONLY,
    CP1258_SCHOOL,
    DUPLICATE_SCHOOL,
    LIST_AND_COUNTS_SCHOOL,
    MOVED_TO,
    NFD_SCHOOL,
    OLD_TONE_SCHOOL,
    TCVN3_SCHOOL,
    VNI_SCHOOL,
)
from analysis.sample.district import DistrictFiles, staff_rows
from analysis.sample.messy import MessyFiles
from analysis.sample.planted import Planted, PlantedRecord, source_entry
from analysis.sample.reform import write_reform
from analysis.sample.world import (
    DEFAULT_SEED,
    NEVER,
    PERIODS,
    REF,
    build_world,
)
from analysis.sample.xlsx import new_workbook, write_sheet

ALIASES_FILE = "school_aliases.csv"
PLANTED_FILE = "sample_planted.json"

SAMPLE_NOTE = """DỮ LIỆU MẪU (dữ liệu tổng hợp, không phải số liệu thật)

Các file trong thư mục này do chương trình sinh ra (python -m analysis sample) để bộ công cụ chạy
được ngay: một quận Long Biên (Hà Nội) giả định, năm học 2023-2024, 142 trường (82 Mầm non,
33 Tiểu học, 27 THCS), 2.714 lớp, 87.097 học sinh. Các tổng số khớp với báo cáo đã công bố ngày
19/4/2024 (1248/1787 CBGVNV cấp Tiểu học có chữ ký số cá nhân, 246 đường truyền cáp quang,
866 máy tính phục vụ quản lý), nhưng số liệu từng trường, từng người là giả.

Họ tên, ngày sinh, số CCCD, số điện thoại, email trong các file đều là dữ liệu bịa, chỉ để kiểm
thử rằng dữ liệu cá nhân không lọt qua bước làm sạch.

Mọi sản phẩm tạo ra từ bộ dữ liệu này đều ghi rõ "Dữ liệu mẫu".
"""

REFORM_NOTE = """
Năm học 2025-2026 (sau ngày 1/7/2025, kỳ 2025-10-17 và 2025-12-12): cũng các trường ấy, cùng
mã trường, nay thuộc các phường Long Biên, Bồ Đề, Việt Hưng, Phúc Lợi, Hồng Hà (Thành phố Hà
Nội), thêm 5 trường THPT và 1 trường TH&THCS (tên trường THPT, TH&THCS là tên đặt ra). Số liệu
cũng là giả.
"""


class _Generator(DistrictFiles, MessyFiles, PlantedRecord):
    """One run of the 2023-2024 sample: the world, the seeded generator and what was written."""

    def __init__(self, out: Path, seed: int) -> None:
        self.out = out
        self.seed = seed
        self.world = build_world(seed)
        self.rng = np.random.default_rng([seed, 1])
        self.planted = Planted()
        self.files: list[str] = []
        self._rows_cache: dict[int, pd.DataFrame] = {}
        w = self.world
        s = w.schools
        keys = zip(s["level"], s["short"], s["school_code"], strict=True)
        self.code_of = {(lv, sh): c for lv, sh, c in keys}
        self.name_of = dict(zip(s["school_code"], s["school_name"], strict=True))
        self.level_of = dict(zip(s["school_code"], s["level"], strict=True))
        self.order = list(s["school_code"])
        own = {TCVN3_SCHOOL, VNI_SCHOOL, CP1258_SCHOOL, BOM_SCHOOL, NFD_SCHOOL}
        special = {self.code_of[k] for k in own | set(COUNTS_ONLY)}
        self.list_codes = {
            lv: [c for c in self.order if self.level_of[c] == lv and c not in special]
            for lv in (TH, THCS)
        }
        # the people behind the duplicated and the moved rows
        p = w.persons
        steady = (p["join_p"] == 0) & (p["leave_p"] == NEVER) & (p["position"] == "Giáo viên")
        self.dup_id = p.loc[steady & (p["school_code"] == self.code_of[DUPLICATE_SCHOOL])].iloc[3][
            "staff_id"
        ]
        self.moved_id = p.loc[steady & (p["school_code"] == self.code_of[MOVED_TO])].iloc[5][
            "staff_id"
        ]
        # written school-name forms in the primary district export
        self.th_forms = self._primary_name_forms()
        self.numeric_code_thcs = set(
            self.rng.choice(self.list_codes[THCS], size=3, replace=False).tolist()
        )

    # -- bookkeeping ---------------------------------------------------------------------

    def rel(self, period: str, name: str) -> str:
        return f"{period}/{name}"

    def _primary_name_forms(self) -> dict[str, str]:
        forms = {}
        for c in self.list_codes[TH]:
            short = self.world.schools.set_index("school_code").loc[c, "short"]
            k = int(self.rng.integers(0, 4))
            forms[c] = (
                f"Trường Tiểu học {short}",
                f"TH {short}",
                f"TRƯỜNG TH {short}".upper(),
                f"Tiểu học {short}",
            )[k]
        c = self.code_of
        forms[c[LIST_AND_COUNTS_SCHOOL]] = "TRƯỜNG TH ÁI MỘ"
        forms[c[OLD_TONE_SCHOOL]] = "TH Gia Thuỵ"
        forms[c[ALIAS_IN_LIST[1]]] = ALIAS_IN_LIST[0]
        forms[c[MOVED_TO]] = "Trường Tiểu học\u00a0Long Biên"
        forms[c[(TH, "Ngọc Lâm")]] = "TH  Ngọc Lâm"
        forms[c[(TH, "Phúc Đồng")]] = "Trường Tiểu học Phúc Đồng\u200b"
        forms[c[(TH, "Thạch Bàn A")]] = "Trường Tiểu học Thạch Bàn A"
        forms[c[(TH, "Ngọc Thụy B")]] = "TH Ngọc Thụy B"
        return forms

    # -- run -------------------------------------------------------------------------------

    def run(self) -> dict:
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / paths.SAMPLE_MARK_FILE).write_text(SAMPLE_NOTE, encoding="utf-8")
        self._write_aliases()
        self._truong(PERIODS[0])
        for i in range(len(PERIODS)):
            self._district_export(i, TH)
            self._district_export(i, THCS)
            self._tcvn3_file(i)
            self._vni_file(i)
            self._cp1258_file(i)
            self._bom_file(i)
            self._nfd_file(i)
            self._counts(i)
        self._ha_tang(PERIODS[REF])
        self._hoc_ba(PERIODS[-1])
        return self._planted_json()

    def _write_aliases(self) -> None:
        rows = pd.DataFrame(
            {
                "alias": [a for a, _, _ in ALIASES],
                "school_code": [self.code_of[k] for _, k, _ in ALIASES],
                "note": [n for _, _, n in ALIASES],
            }
        )
        path = self.out / ALIASES_FILE
        rows.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        self.files.append(ALIASES_FILE)

    def _staff(self, i: int, codes: list[str]) -> pd.DataFrame:
        """The listed people of ``codes`` (in district order) at period ``i`` (cached)."""
        if i not in self._rows_cache:
            self._rows_cache[i] = staff_rows(self.world, i, self.order)
        rows = self._rows_cache[i]
        return rows[rows["school_code"].isin(codes)].reset_index(drop=True)

    def _own_rows(self, i: int, key) -> pd.DataFrame:
        return self._staff(i, [self.code_of[key]])

    # -- output ----------------------------------------------------------------------------

    def _source(self, period, rel, lay, kind, level, **extra) -> None:
        self.files.append(rel)
        self.planted.sources.append(source_entry(period, rel, lay, kind, level, **extra))

    def _write_sheet(self, period, pdate, rel, spec, kind, level, **extra) -> dict:
        """Write a one-sheet workbook and record its file: the layout of what was written."""
        wb = new_workbook(self.out / rel, pdate)
        lay = write_sheet(wb, spec)
        wb.close()
        self._source(period, rel, lay, kind, level, **extra)
        return lay


def generate(
    out_dir: Path | str = paths.RAW_DIR,
    seed: int = DEFAULT_SEED,
    planted_path: Path | str | None = None,
    reform: bool = True,
) -> dict:
    """Write the sample data set into ``out_dir`` and ``planted_path``; return the planted
    record (also written as JSON). ``reform`` adds the school year 2025-2026 (the periods
    after 1/7/2025, :mod:`analysis.sample.reform`) under the record's ``reform`` key; the
    2023-2024 files do not depend on it."""
    out = Path(out_dir)
    gen = _Generator(out, seed)
    planted = gen.run()
    if reform:
        planted["reform"] = write_reform(out, seed, gen.world)
        with open(out / paths.SAMPLE_MARK_FILE, "a", encoding="utf-8") as fh:
            fh.write(REFORM_NOTE)
    target = Path(planted_path) if planted_path else out.parent / PLANTED_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps(planted, ensure_ascii=False, indent=1, sort_keys=False) + "\n",
        encoding="utf-8",
    )
    return planted
