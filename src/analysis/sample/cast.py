"""Who plays which part in the 2023-2024 sample: the schools (level, short name) and the
written names the rendering gives a special role (own legacy files, counts only, aliases,
planted fuzzy and unknown names), and the names in the report footers."""

from __future__ import annotations

from analysis.core.vocab import TH, THCS

# Schools with a special role in the rendering (level, short name).
TCVN3_SCHOOL = (TH, "Thạch Bàn B")
VNI_SCHOOL = (TH, "Đoàn Khuê")
CP1258_SCHOOL = (TH, "Vũ Xuân Thiều")
BOM_SCHOOL = (THCS, "Ngọc Lâm")
NFD_SCHOOL = (THCS, "Phúc Lợi")
COUNTS_ONLY = ((TH, "Gia Thượng"), (TH, "Ngọc Thụy A"), (TH, "Lý Thường Kiệt"))
COUNTS_ONLY += ((THCS, "Thượng Thanh"), (THCS, "Cự Khối"))
RATE_MISMATCH_SCHOOL = (TH, "Gia Thượng")
LIST_AND_COUNTS_SCHOOL = (TH, "Ái Mộ")
#: CP1258_SCHOOL (the old school) still lists the person who moved to this school (where the
#: world has them).
MOVED_TO = (TH, "Long Biên")
DUPLICATE_SCHOOL = (TH, "Bồ Đề")
OLD_TONE_SCHOOL = (TH, "Gia Thụy")
ALIASES = (
    # alias, (level, short), note
    ("Trường Tiểu học Gia Quất", (TH, "Thượng Thanh"), "Tên cũ của trường (trước khi đổi tên)"),
    ("THCS Thanh Am", (THCS, "Thượng Thanh"), "Tên cũ của trường (trước khi đổi tên)"),
)
ALIAS_IN_LIST = ALIASES[0]
ALIAS_IN_COUNTS = ALIASES[1]
FUZZY_STAFF_NAME = "Trường Tiểu học Đô thị Việt Hưg"
FUZZY_COUNTS_NAME = "Trường THCS Phú Đồng"
UNKNOWN_COUNTS_NAME = "Trường Tiểu học Khương Mai"
UNKNOWN_STAFF_NAME = "Trường THCS Khương Đình"
BAD_STATUS = "Kiểm tra lại"

FOOTER_NAMES = ("Nguyễn Thị Thu Hà", "Trần Minh Đức", "Lê Thị Hồng Nhung", "Phạm Văn Toàn")
