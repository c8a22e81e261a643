"""The table kinds of the data contract (section 2) and how their headers are recognised.

Each kind (``truong``, ``cbgvnv``, ``tonghop_cks``, ``ha_tang``, ``hoc_ba``) has canonical
columns with English names (the processed tables' names), a Vietnamese header and aliases.
Headers are compared through :func:`header_key`: ``text.fold`` (case, diacritics, white space
and line breaks ignored), then every run of punctuation becomes one space, so
``"Số\\nlớp"``, ``"SỐ LỚP"`` and ``"Số lớp:"`` are the same key. A second key drops
parenthesised parts and asterisks (``"Mã trường (*)"`` = ``"Mã trường"``).

Merged (multi-row) headers arrive as *parts*: ``("Chữ ký số", "Trạng thái")``. A column is
matched, best first:

1. quality 4: the joined parts equal an alias (``"Chữ ký số Trạng thái"``);
2. quality 3: the same with parenthesised parts dropped;
3. quality 3: the last part is a sub-header alias *under a known group* (``"Trạng thái"``
   under ``"Chữ ký số"`` is the signature status, while a plain ``"Trạng thái"`` column is the
   employment status);
4. quality 2: the last part alone equals an alias (``"Nhà cung cấp"`` under any group);
5. quality 1: the upper parts equal an alias and the last part is no known header at all
   (a unit row such as ``"(người)"`` under ``"Tổng số CBGVNV"``).

Columns are then assigned greedily by (quality desc, alias rank asc, column index asc); a
canonical column is taken once (personal columns may take several source columns: they are
all dropped). A kind is recognised when all its required columns (and one of each "one of"
group) are present; the kind with the most matched columns wins, ties go to the order of
:data:`KINDS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from analysis.core import text

KINDS: tuple[str, ...] = (
    "truong",
    "cbgvnv",
    "tonghop_cks",
    "ha_tang",
    "hoc_ba",
    "ca_thue_bao",
    "chu_ky_so_to_chuc",
)

#: The kinds' Vietnamese names (messages, quality report).
KIND_TITLES: dict[str, str] = {
    "truong": "Danh sách trường",
    "cbgvnv": "Danh sách CBGVNV (chữ ký số)",
    "tonghop_cks": "Tổng hợp chữ ký số theo trường",
    "ha_tang": "Hạ tầng CNTT",
    "hoc_ba": "Tiến độ ký học bạ số",
    "ca_thue_bao": "Danh sách thuê bao chữ ký số của nhà cung cấp",
    "chu_ky_so_to_chuc": "Chữ ký số của trường (cơ quan, tổ chức)",
}

#: Kinds whose CCCD column is carried to the cleaning stage (``RawTable.id_numbers``) to be
#: turned into a join key there (:mod:`analysis.certificates`), never into ``data``.
ID_JOIN_KINDS: frozenset[str] = frozenset({"cbgvnv", "ca_thue_bao"})

#: Canonical columns that hold personal data: dropped by ingest right after header mapping.
PERSONAL_COLUMNS: frozenset[str] = frozenset(
    {"full_name", "birth_date", "id_number", "phone", "email"}
)

#: Headers that are known but carry nothing we keep (not reported as unmapped).
IGNORED_HEADERS: tuple[str, ...] = (
    "STT",
    "TT",
    "Số TT",
    "Số thứ tự",
    "Ghi chú",
    "Ghi chú khác",
)

#: Header groups of merged headers: group id -> Vietnamese group cells.
GROUPS: dict[str, tuple[str, ...]] = {
    "cks": (
        "Chữ ký số",
        "CKS",
        "Chữ ký số cá nhân",
        "Thông tin chữ ký số",
        "Thông tin CKS",
        "Chứng thư số",
        "Chứng thư số cá nhân",
        "Tình hình cấp chữ ký số",
    ),
    "school": ("Trường", "Đơn vị", "Thông tin trường", "Thông tin đơn vị", "Trường học"),
    "pupils": ("Số học sinh", "Số HS", "Học sinh", "Tổng số học sinh", "Tổng số HS"),
    "staff": (
        "CBGVNV",
        "Số CBGVNV",
        "Cán bộ giáo viên nhân viên",
        "Số cán bộ giáo viên nhân viên",
        "Số lượng",
        "Số lượng CBGVNV",
    ),
    "signed_records": (
        "Số học bạ đã ký",
        "Học bạ đã ký",
        "Đã ký",
        "Số học bạ đã ký số",
        "Số học bạ đã được ký",
        "Tiến độ ký",
    ),
    "fibre": ("Đường truyền cáp quang", "Đường truyền Internet", "Internet", "Đường truyền"),
    "computers": ("Máy tính", "Số máy tính", "Máy tính phục vụ quản lý"),
    "id_card": (
        "CCCD",
        "Số CCCD",
        "CMND/CCCD",
        "CMND",
        "Căn cước công dân",
        "Căn cước",
        "Thông tin cá nhân",
    ),
}


@dataclass(frozen=True)
class Column:
    """One canonical column of a kind.

    ``aliases`` are plain headers (the Vietnamese ``header`` and the English ``name`` are
    aliases too); ``sub_aliases`` maps a group id of :data:`GROUPS` to the sub-headers that mean
    this column under that group.
    """

    name: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    personal: bool = False
    sub_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def all_aliases(self) -> tuple[str, ...]:
        return (self.header, *self.aliases, self.name)


@dataclass(frozen=True)
class Kind:
    """A table kind: its columns, required columns and "one of" groups."""

    name: str
    title: str
    columns: tuple[Column, ...]
    #: groups of columns of which at least one is required (e.g. school code or name).
    one_of: tuple[tuple[str, ...], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def personal(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.personal)

    @property
    def kept_columns(self) -> tuple[str, ...]:
        """The non-personal canonical columns, in canonical order (what ingest may keep)."""
        return tuple(c.name for c in self.columns if not c.personal)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def header_of(self, name: str) -> str:
        """The Vietnamese header of a canonical column (``"Mã trường"``)."""
        return self.column(name).header

    def missing(self, present: Iterable[str]) -> list[str]:
        """Canonical names of the required columns (and unmet "one of" groups, joined by
        ``"|"``) that ``present`` lacks, in canonical order."""
        present = set(present)
        out = [n for n in self.required if n not in present]
        for group in self.one_of:
            if not present.intersection(group):
                out.append("|".join(group))
        return out

    def missing_headers(self, present: Iterable[str]) -> list[str]:
        """Like :meth:`missing` but as Vietnamese headers (``"Mã trường hoặc Tên trường"``)."""
        return [
            " hoặc ".join(self.header_of(n) for n in item.split("|"))
            for item in self.missing(present)
        ]

    def is_complete(self, present: Iterable[str]) -> bool:
        return not self.missing(present)


# ----------------------------------------------------------------------------------------
# Column definitions

_SCHOOL_CODE = Column(
    "school_code",
    "Mã trường",
    (
        "Mã đơn vị",
        "Mã trường học",
        "Mã số trường",
        "Mã CSGD",
        "Mã cơ sở giáo dục",
        "Mã đơn vị trường",
        "Mã ĐV",
        "Mã trường (CSDL)",
    ),
    sub_aliases={"school": ("Mã", "Mã số", "Mã trường", "Mã đơn vị")},
)
_SCHOOL_NAME = Column(
    "school_name",
    "Tên trường",
    (
        "Tên đơn vị",
        "Đơn vị",
        "Trường",
        "Tên trường học",
        "Tên cơ sở giáo dục",
        "Cơ sở giáo dục",
        "Đơn vị công tác",
        "Trường công tác",
        "Nơi công tác",
        "Tên đơn vị trường",
        "Trường học",
    ),
    sub_aliases={"school": ("Tên", "Tên trường", "Tên đơn vị")},
)


def _school(required: bool = False) -> tuple[Column, Column]:
    if not required:
        return _SCHOOL_CODE, _SCHOOL_NAME
    return replace(_SCHOOL_CODE, required=True), replace(_SCHOOL_NAME, required=True)


_TRUONG = Kind(
    "truong",
    KIND_TITLES["truong"],
    (
        *_school(required=True),
        Column(
            "level",
            "Cấp học",
            ("Cấp", "Bậc học", "Cấp học bậc học", "Cấp học (MN/TH/THCS)", "Cấp trường"),
            required=True,
        ),
        Column(
            "ownership",
            "Loại hình",
            ("Loại hình trường", "Loại trường", "Loại hình đơn vị", "Loại hình cơ sở"),
        ),
        # Units (data contract §7): ``Phường`` is the old ward; ``Xã/Phường`` is today's commune
        # after 1/7/2025 and the old ward before (``units.assign_units`` applies the rule).
        Column("ward", "Phường", ("Địa bàn", "Địa bàn phường", "Phường cũ", "Xã/Phường cũ")),
        Column(
            "commune",
            "Xã/Phường",
            ("UBND Xã", "Phường/Xã", "Đơn vị hành chính cấp xã", "Xã", "Xã/Phường/Đặc khu"),
        ),
        Column("district", "Quận/Huyện", ("Quận", "Huyện", "Huyện/Quận", "Quận huyện")),
        Column(
            "province",
            "Tỉnh/Thành phố",
            ("Tỉnh", "Thành phố", "Sở GD&ĐT", "Tỉnh/TP", "Tỉnh/Thành"),
        ),
        Column(
            "n_classes",
            "Số lớp",
            ("Tổng số lớp", "Số lớp học", "Lớp", "Tổng số nhóm lớp", "Số nhóm lớp"),
            required=True,
        ),
        Column(
            "n_pupils",
            "Số học sinh",
            (
                "Số HS",
                "Tổng số HS",
                "Tổng số học sinh",
                "Học sinh",
                "Số trẻ",
                "Số HS trẻ",
                "Số học sinh trẻ",
                "Tổng số trẻ",
            ),
            required=True,
            sub_aliases={"pupils": ("Tổng số", "Tổng", "Tổng cộng", "Số lượng")},
        ),
        Column(
            "n_pupils_with_id",
            "Số HS có mã định danh",
            (
                "Số học sinh có mã định danh",
                "Số HS đã có mã định danh",
                "Số học sinh đã có mã định danh",
                "HS có mã định danh",
                "Có mã định danh",
                "Số HS có mã ĐDCN",
                "Số HS có mã định danh cá nhân",
            ),
            sub_aliases={
                "pupils": ("Có mã định danh", "Đã có mã định danh", "Có mã ĐDCN", "Có mã ĐD")
            },
        ),
        Column(
            "n_pupils_verified",
            "Số HS đã xác thực",
            (
                "Số HS đã xác thực (CSDL dân cư)",
                "Số học sinh đã xác thực",
                "Số HS đã xác thực CSDL dân cư",
                "Số HS đã xác thực với CSDL dân cư",
                "Số HS đã xác thực với CSDL quốc gia về dân cư",
                "HS đã xác thực",
                "Đã xác thực",
                "Đã xác thực CSDL dân cư",
            ),
            sub_aliases={"pupils": ("Đã xác thực", "Đã xác thực CSDL dân cư", "Xác thực")},
        ),
    ),
)

_CBGVNV = Kind(
    "cbgvnv",
    KIND_TITLES["cbgvnv"],
    (
        Column(
            "staff_id",
            "Mã định danh",
            (
                "Mã CB",
                "Mã cán bộ",
                "Mã định danh CB",
                "Mã định danh cán bộ",
                "Mã định danh CBGVNV",
                "Mã CBGVNV",
                "Mã nhân sự",
                "Mã số cán bộ",
                "Mã viên chức",
                "Mã GV",
                "Mã định danh ngành",
                "Mã định danh Bộ GD&ĐT",
            ),
            required=True,
        ),
        Column("level", "Cấp học", ("Cấp dạy", "Cấp học giảng dạy", "Bậc học")),
        Column(
            "full_name",
            "Họ và tên",
            (
                "Họ tên",
                "Họ và tên CBGVNV",
                "Họ và tên cán bộ",
                "Họ tên cán bộ",
                "Họ và tên giáo viên",
                "Tên cán bộ",
                "Họ",
                "Họ đệm",
                "Họ và đệm",
                "Tên",
            ),
            personal=True,
        ),
        Column(
            "birth_date",
            "Ngày sinh",
            ("Ngày tháng năm sinh", "Ngày/tháng/năm sinh", "Năm sinh", "NTNS", "Sinh ngày"),
            personal=True,
        ),
        Column(
            "id_number",
            "Số CCCD",
            (
                "CCCD",
                "Số định danh cá nhân",
                "CMND/CCCD",
                "Số CMND/CCCD",
                "Số CCCD/CMND",
                "CMND",
                "Số CMND",
                "Căn cước công dân",
                "Số căn cước công dân",
                "Số căn cước",
                "Ngày cấp CCCD",
                "Nơi cấp CCCD",
            ),
            personal=True,
            sub_aliases={"id_card": ("Số", "Ngày cấp", "Nơi cấp", "Số CCCD", "Số CMND")},
        ),
        Column(
            "phone",
            "Số điện thoại",
            ("Điện thoại", "SĐT", "Số ĐT", "Di động", "Điện thoại di động", "Số di động"),
            personal=True,
        ),
        Column(
            "email",
            "Email",
            ("E-mail", "Thư điện tử", "Địa chỉ email", "Địa chỉ thư điện tử", "Gmail"),
            personal=True,
        ),
        Column(
            "position",
            "Chức vụ",
            (
                "Nhóm chức vụ",
                "Vị trí việc làm",
                "Chức danh",
                "Vị trí công việc",
                "Chức vụ/Vị trí việc làm",
                "Chức vụ chức danh",
                "Chức danh nghề nghiệp",
            ),
            required=True,
        ),
        *_school(),
        Column(
            "signature_status",
            "Chữ ký số",
            (
                "Trạng thái chữ ký số",
                "Đã có CKS",
                "CKS",
                "Đã có chữ ký số",
                "Tình trạng chữ ký số",
                "Trạng thái CKS",
                "Tình trạng CKS",
                "Có CKS",
                "Chữ ký số cá nhân",
                "Đã cấp CKS",
                "Đã được cấp CKS",
                "Đã được cấp chữ ký số",
                "Tình hình cấp chữ ký số",
            ),
            # Optional: the CSDL ngành export has no signature column; its staff's signatures
            # then come from the providers' lists (``ca_thue_bao``).
            sub_aliases={
                "cks": (
                    "Trạng thái",
                    "Tình trạng",
                    "Đã có",
                    "Đã cấp",
                    "Đã được cấp",
                    "Có/Không",
                    "Có hay chưa",
                    "Tình trạng cấp",
                )
            },
        ),
        Column(
            "provider",
            "Nhà cung cấp",
            (
                "Đơn vị cung cấp",
                "CA",
                "Nhà cung cấp CKS",
                "Nhà cung cấp chữ ký số",
                "Nhà cung cấp dịch vụ",
                "Đơn vị cung cấp CKS",
                "Đơn vị cung cấp chữ ký số",
                "Đơn vị cấp",
                "Tổ chức cung cấp",
                "NCC",
                "Nhà mạng",
            ),
            sub_aliases={"cks": ("Nhà cung cấp", "Đơn vị cung cấp", "Đơn vị cấp", "NCC")},
        ),
        Column(
            "issued_on",
            "Ngày cấp",
            ("Ngày cấp CKS", "Ngày cấp chữ ký số", "Ngày hiệu lực", "Ngày bắt đầu", "Từ ngày"),
            sub_aliases={"cks": ("Ngày cấp", "Ngày hiệu lực", "Từ ngày", "Ngày đăng ký")},
        ),
        Column(
            "expires_on",
            "Ngày hết hạn",
            (
                "Ngày hết hạn CKS",
                "Ngày hết hạn chữ ký số",
                "Ngày hết hiệu lực",
                "Hạn sử dụng",
                "Hiệu lực đến",
                "Đến ngày",
            ),
            sub_aliases={"cks": ("Ngày hết hạn", "Hết hạn", "Đến ngày", "Hạn sử dụng")},
        ),
        Column(
            "employment_status",
            "Trạng thái CB",
            (
                "Trạng thái",
                "Trạng thái cán bộ",
                "Trạng thái CBGVNV",
                "Tình trạng công tác",
                "Trạng thái công tác",
                "Trạng thái làm việc",
                "Tình trạng làm việc",
                "Tình trạng",
            ),
        ),
    ),
    # No "one of" school group: a CSDL export made for one school names it in the title rows
    # above the header ("Trường Tiểu học Ái Mộ", "Đơn vị: ..."); the cleaning stage takes it
    # from there, and a row with no school anywhere is refused (``missing_school``).
)

_TONGHOP_CKS = Kind(
    "tonghop_cks",
    KIND_TITLES["tonghop_cks"],
    (
        *_school(),
        Column(
            "n_staff",
            "Tổng số CBGVNV",
            (
                "Tổng số",
                "Tổng số CB",
                "Tổng số CBGV",
                "Tổng số cán bộ",
                "Tổng số CBGVNV (người)",
                "Tổng CBGVNV",
                "Số CBGVNV",
                "Tổng số cán bộ giáo viên nhân viên",
            ),
            required=True,
            sub_aliases={"staff": ("Tổng số", "Tổng"), "cks": ("Tổng số", "Tổng số CBGVNV")},
        ),
        Column(
            "n_signed",
            "Số đã có chữ ký số",
            (
                "Đã có CKS",
                "Số CBGVNV đã có chữ ký số",
                "Số CBGVNV đã có CKS",
                "Số đã có CKS",
                "Đã có chữ ký số",
                "Số CB đã có CKS",
                "Số người đã có CKS",
                "Số người đã có chữ ký số",
                "Số đã cấp CKS",
                "Số CBGVNV đã được cấp CKS",
                "Số lượng đã có CKS",
            ),
            required=True,
            sub_aliases={
                "staff": ("Đã có chữ ký số", "Đã có CKS", "Đã có", "Đã cấp", "Số đã có"),
                "cks": ("Đã có", "Đã cấp", "Số đã có", "Đã có CKS", "Số lượng", "Số người"),
            },
        ),
        Column(
            "rate_reported",
            "Tỷ lệ (%)",
            (
                "Tỷ lệ",
                "Tỉ lệ",
                "Tỉ lệ (%)",
                "Tỷ lệ %",
                "Tỷ lệ đã có CKS",
                "Tỷ lệ (%) đã có CKS",
                "Tỷ lệ CKS",
                "Tỷ lệ có CKS",
            ),
            sub_aliases={
                "staff": ("Tỷ lệ", "Tỉ lệ", "Tỷ lệ đã có"),
                "cks": ("Tỷ lệ", "Tỉ lệ", "Tỷ lệ đã có"),
            },
        ),
    ),
    one_of=(("school_code", "school_name"),),
)

_HA_TANG = Kind(
    "ha_tang",
    KIND_TITLES["ha_tang"],
    (
        *_school(),
        Column(
            "n_fibre",
            "Số đường truyền cáp quang",
            (
                "Số đường truyền",
                "Đường truyền cáp quang",
                "Số đường cáp quang",
                "Số lượng đường truyền cáp quang",
                "Số đường truyền Internet cáp quang",
                "Số đường truyền Internet",
                "Cáp quang",
            ),
            required=True,
            sub_aliases={"fibre": ("Số đường truyền", "Số lượng", "Số đường", "Cáp quang")},
        ),
        Column(
            "speed_mbps",
            "Tốc độ đường truyền (Mbps)",
            (
                "Tốc độ đường truyền",
                "Tốc độ",
                "Tốc độ (Mbps)",
                "Băng thông",
                "Băng thông (Mbps)",
                "Tốc độ Internet",
                "Tốc độ đường truyền Internet",
                "Tốc độ đường truyền Mbps",
            ),
            sub_aliases={"fibre": ("Tốc độ", "Tốc độ (Mbps)", "Băng thông")},
        ),
        Column(
            "n_computers",
            "Số máy tính phục vụ quản lý",
            (
                "Số máy tính",
                "Số máy tính phục vụ công tác quản lý",
                "Máy tính phục vụ quản lý",
                "Số lượng máy tính",
                "Số máy tính quản lý",
                "Số máy tính phục vụ quản lý (chiếc)",
            ),
            sub_aliases={
                "computers": ("Số lượng", "Phục vụ quản lý", "Tổng số", "Phục vụ công tác quản lý")
            },
        ),
    ),
    one_of=(("school_code", "school_name"),),
)

_HOC_BA = Kind(
    "hoc_ba",
    KIND_TITLES["hoc_ba"],
    (
        *_school(),
        Column("grade", "Khối", ("Khối lớp", "Khối học", "Khối (lớp)")),
        Column("class_name", "Lớp", ("Tên lớp", "Lớp học", "Lớp (tên lớp)"), required=True),
        Column(
            "n_pupils",
            "Số học sinh",
            (
                "Số HS",
                "Sĩ số",
                "Tổng số HS",
                "Tổng số học sinh",
                "Số học bạ",
                "Tổng số học bạ",
                "Số HS (học bạ)",
            ),
            required=True,
        ),
        Column(
            "n_signed_teacher",
            "Số học bạ GVCN đã ký",
            (
                "GVCN đã ký",
                "Số học bạ giáo viên chủ nhiệm đã ký",
                "Số HB GVCN đã ký",
                "Số học bạ đã được GVCN ký",
                "Đã ký GVCN",
                "GVCN ký",
                "Số học bạ GVCN đã ký số",
            ),
            required=True,
            sub_aliases={
                "signed_records": ("GVCN", "Giáo viên chủ nhiệm", "GVCN đã ký", "GVCN ký")
            },
        ),
        Column(
            "n_signed_principal",
            "Số học bạ Hiệu trưởng đã ký",
            (
                "Hiệu trưởng đã ký",
                "HT đã ký",
                "Số HB HT đã ký",
                "Số học bạ HT đã ký",
                "Số học bạ đã được Hiệu trưởng ký",
                "Đã ký Hiệu trưởng",
                "Hiệu trưởng ký",
                "Số học bạ Hiệu trưởng đã ký số",
            ),
            required=True,
            sub_aliases={
                "signed_records": ("Hiệu trưởng", "HT", "Hiệu trưởng đã ký", "Hiệu trưởng ký")
            },
        ),
    ),
    one_of=(("school_code", "school_name"),),
)

_SERIAL = Column(
    "serial",
    "Serial chứng thư",
    (
        "Số serial",
        "Serial",
        "Mã chứng thư",
        "Số serial chứng thư",
        "Serial number",
        "Số hiệu chứng thư",
        "Serial CTS",
        "Số serial CTS",
    ),
    required=True,
    sub_aliases={"cks": ("Serial", "Số serial", "Mã chứng thư")},
)
_VALID_FROM = Column(
    "valid_from",
    "Ngày hiệu lực",
    ("Từ ngày", "Ngày bắt đầu", "Hiệu lực từ", "Ngày bắt đầu hiệu lực", "Ngày cấp chứng thư"),
    sub_aliases={"cks": ("Từ ngày", "Ngày hiệu lực", "Ngày bắt đầu")},
)
_CERT_EXPIRES = Column(
    "expires_on",
    "Ngày hết hạn",
    ("Đến ngày", "Ngày hết hiệu lực", "Hiệu lực đến", "Ngày kết thúc"),
    required=True,
    sub_aliases={"cks": ("Đến ngày", "Ngày hết hạn", "Hết hạn")},
)
_CERT_STATUS = Column(
    "cert_status",
    "Trạng thái",
    ("Tình trạng", "Trạng thái chứng thư", "Trạng thái thuê bao", "Tình trạng chứng thư"),
    sub_aliases={"cks": ("Trạng thái", "Tình trạng")},
)

_CA_THUE_BAO = Kind(
    "ca_thue_bao",
    KIND_TITLES["ca_thue_bao"],
    (
        Column(
            "id_number",
            "Số CCCD",
            (
                "Số định danh cá nhân",
                "CCCD/CMND",
                "Số giấy tờ",
                "CCCD",
                "CMND/CCCD",
                "Số CCCD/CMND",
                "Số CMND/CCCD",
                "Số CMND",
                "Số giấy tờ tùy thân",
                "Căn cước công dân",
            ),
            required=True,
            personal=True,
        ),
        Column(
            "full_name",
            "Họ và tên",
            ("Tên thuê bao", "Chủ thể", "Họ tên", "Tên chủ thể", "Tên khách hàng"),
            personal=True,
        ),
        _SERIAL,
        _VALID_FROM,
        _CERT_EXPIRES,
        _CERT_STATUS,
        Column(
            "package",
            "Gói dịch vụ",
            ("Loại chứng thư", "Hình thức", "Gói cước", "Loại thiết bị", "Hình thức ký"),
        ),
        Column(
            "provider",
            "Nhà cung cấp",
            ("Đơn vị cung cấp", "CA", "Nhà cung cấp dịch vụ", "Tổ chức cung cấp", "NCC"),
        ),
        Column(
            "school_name",
            "Đơn vị",
            ("Tên trường", "Cơ quan", "Tên đơn vị", "Đơn vị công tác", "Tên cơ quan", "Trường"),
        ),
        Column("school_code", "Mã trường", ("Mã đơn vị", "Mã CSGD")),
        Column("tax_code", "Mã số thuế", ("MST", "Mã số thuế đơn vị")),
    ),
)

_CHU_KY_SO_TO_CHUC = Kind(
    "chu_ky_so_to_chuc",
    KIND_TITLES["chu_ky_so_to_chuc"],
    (
        *_school(),
        _SERIAL,
        _VALID_FROM,
        _CERT_EXPIRES,
        _CERT_STATUS,
        Column("cert_kind", "Loại", ("Loại chữ ký số", "Loại CKS", "Loại chứng thư số")),
    ),
    one_of=(("school_code", "school_name"),),
)

KIND_SPECS: dict[str, Kind] = {
    k.name: k
    for k in (
        _TRUONG,
        _CBGVNV,
        _TONGHOP_CKS,
        _HA_TANG,
        _HOC_BA,
        _CA_THUE_BAO,
        _CHU_KY_SO_TO_CHUC,
    )
}


def canonical_columns(kind: str) -> tuple[str, ...]:
    """All canonical columns of ``kind`` (personal ones included), in canonical order."""
    return KIND_SPECS[kind].column_names


def kept_columns(kind: str) -> tuple[str, ...]:
    """The non-personal canonical columns of ``kind``: the most ingest's ``data`` can hold."""
    return KIND_SPECS[kind].kept_columns


# ----------------------------------------------------------------------------------------
# Header keys and matching

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_PARENS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|\*")


def header_key(value: object) -> str:
    """The comparison key of a header cell: folded, punctuation runs as single spaces."""
    if value is None:
        return ""
    return _header_key(str(value))


@lru_cache(maxsize=1 << 16)
def _header_key(value: str) -> str:
    s = (text.fold(value) or "").replace("đ", "d")
    return _NON_ALNUM.sub(" ", s).strip()


def header_key_loose(value: object) -> str:
    """:func:`header_key` without parenthesised parts and asterisks (``"Tỷ lệ (%)"`` ->
    ``"ty le"``)."""
    if value is None:
        return ""
    return _header_key_loose(str(value))


@lru_cache(maxsize=1 << 16)
def _header_key_loose(value: str) -> str:
    return _header_key(_PARENS.sub(" ", value))


@dataclass(frozen=True)
class _Index:
    """Precomputed keys of one kind."""

    plain: dict[str, tuple[str, int]]  # key -> (canonical, alias rank)
    sub: dict[tuple[str, str], tuple[str, int]]  # (group id, key) -> (canonical, rank)


def _keys(alias: str) -> list[str]:
    out = []
    for k in (header_key(alias), header_key_loose(alias)):
        if k and k not in out:
            out.append(k)
    return out


@lru_cache(maxsize=1)
def _indexes() -> tuple[dict[str, _Index], dict[str, str], frozenset[str], frozenset[str]]:
    """Per-kind alias indexes, group key -> group id, every known key, ignored keys."""
    per_kind: dict[str, _Index] = {}
    known: set[str] = set()
    for kind in KINDS:
        plain: dict[str, tuple[str, int]] = {}
        sub: dict[tuple[str, str], tuple[str, int]] = {}
        for col in KIND_SPECS[kind].columns:
            for rank, alias in enumerate(col.all_aliases()):
                for k in _keys(alias):
                    plain.setdefault(k, (col.name, rank))
                    known.add(k)
            for gid, subs in sorted(col.sub_aliases.items()):
                for rank, alias in enumerate(subs):
                    for k in _keys(alias):
                        sub.setdefault((gid, k), (col.name, rank))
                        known.add(k)
        per_kind[kind] = _Index(plain, sub)
    groups: dict[str, str] = {}
    for gid in sorted(GROUPS):
        for alias in GROUPS[gid]:
            for k in _keys(alias):
                groups.setdefault(k, gid)
    ignored = frozenset(k for a in IGNORED_HEADERS for k in _keys(a))
    known |= ignored
    return per_kind, groups, frozenset(known), ignored


@lru_cache(maxsize=1)
def _group_keys_longest_first() -> tuple[str, ...]:
    _, groups, _, _ = _indexes()
    return tuple(sorted(groups, key=lambda k: (-len(k), k)))


def _as_parts(cell: object) -> tuple[str, ...]:
    """A header cell as its non-empty parts (group..., sub), consecutive repeats removed."""
    if _is_text_cell(cell):
        return _as_parts_cached(cell)
    return _as_parts_uncached(cell)


def _is_text_cell(cell: object) -> bool:
    """A str, or a tuple of str/None parts: safe as a cache key (``1 == 1.0 == True`` would
    mix up numbers whose text differs)."""
    if type(cell) is str:
        return True
    return type(cell) is tuple and all(p is None or type(p) is str for p in cell)


@lru_cache(maxsize=1 << 16)
def _as_parts_cached(cell: str | tuple) -> tuple[str, ...]:
    # Header texts repeat across candidate rows, sheets, files and periods.
    return _as_parts_uncached(cell)


def _as_parts_uncached(cell: object) -> tuple[str, ...]:
    if isinstance(cell, (tuple, list)):
        raw = [str(p) for p in cell if p is not None and str(p).strip() != ""]
    elif cell is None:
        raw = []
    else:
        raw = [str(cell)] if str(cell).strip() != "" else []
    parts: list[str] = []
    for p in raw:
        if not parts or header_key(parts[-1]) != header_key(p):
            parts.append(p)
    return tuple(parts)


def header_text(cell: object) -> str:
    """The flattened display text of a header cell (parts joined by a space)."""
    return " ".join(" ".join(str(p).split()) for p in _as_parts(cell))


def is_ignored_header(cell: object) -> bool:
    """True for known headers we don't keep (STT, Ghi chú) and for blank headers."""
    parts = _as_parts(cell)
    if not parts:
        return True
    _, _, _, ignored = _indexes()
    return header_key(parts[-1]) in ignored or header_key(" ".join(parts)) in ignored


@lru_cache(maxsize=1 << 16)
def _candidate(kind: str, parts: tuple[str, ...]) -> tuple[int, int, str] | None:
    """Best (quality, alias rank, canonical) of one header cell for ``kind``."""
    if not parts:
        return None
    per_kind, groups, known, ignored = _indexes()
    idx = per_kind[kind]
    joined = " ".join(parts)
    k_full = header_key(joined)
    if k_full in ignored:
        return None
    if k_full in idx.plain:
        name, rank = idx.plain[k_full]
        return 4, rank, name
    k_loose = header_key_loose(joined)
    if k_loose in idx.plain:
        name, rank = idx.plain[k_loose]
        return 3, rank, name
    if len(parts) < 2:
        # A header flattened into one cell ("Chữ ký số Trạng thái"): split off a known group.
        for gk in _group_keys_longest_first():
            if k_full.startswith(gk + " "):
                return _candidate(kind, (gk, k_full[len(gk) + 1 :]))
        return None
    last = parts[-1]
    last_keys = _keys(last)
    upper = parts[:-1]
    # 3: the sub-header under a known group (innermost group first).
    for up in reversed(upper):
        for uk in _keys(up):
            gid = groups.get(uk)
            if gid is None:
                continue
            for lk in last_keys:
                hit = idx.sub.get((gid, lk))
                if hit is not None:
                    return 3, hit[1], hit[0]
    # 2: the sub-header alone.
    for lk in last_keys:
        if lk in ignored:
            return None
        if lk in idx.plain:
            name, rank = idx.plain[lk]
            return 2, rank, name
    # 1: the group alone, when the sub-header is nothing we know (a unit row).
    if not any(lk in known for lk in last_keys):
        for k in (header_key(" ".join(upper)), header_key_loose(" ".join(upper))):
            if k in idx.plain:
                name, rank = idx.plain[k]
                return 1, rank, name
    return None


def match_columns(kind: str, header_cells: Sequence[object]) -> dict[int, str]:
    """Map column positions of ``header_cells`` to canonical columns of ``kind``.

    A header cell is a string or a tuple of parts (group..., sub) from a merged header.
    Each canonical column is taken once, except personal ones (all dropped anyway).
    """
    return _match(kind, header_cells)[0]


def _match(kind: str, header_cells: Sequence[object]) -> tuple[dict[int, str], int]:
    """(mapping, sum of the match qualities of the mapped columns)."""
    cells = _hashable_cells(header_cells)
    if cells is None:
        items, quality = _match_items(kind, header_cells)
    else:
        items, quality = _match_cached(kind, cells)
    return dict(items), quality


def _hashable_cells(header_cells: Sequence[object]) -> tuple | None:
    """``header_cells`` as a tuple usable as a cache key, or None when a cell is not text
    (a str, None, or a tuple of str/None parts)."""
    cells = tuple(header_cells)
    if all(c is None or _is_text_cell(c) for c in cells):
        return cells
    return None


@lru_cache(maxsize=1 << 14)
def _match_cached(kind: str, cells: tuple) -> tuple[tuple[tuple[int, str], ...], int]:
    # A header candidate (a row, or 2-3 rows of a merged header) is classified once per
    # process: the same forms come back in every file and every period.
    return _match_items(kind, cells)


def _match_items(
    kind: str, header_cells: Sequence[object]
) -> tuple[tuple[tuple[int, str], ...], int]:
    found = []
    for i, cell in enumerate(header_cells):
        c = _candidate(kind, _as_parts(cell))
        if c is not None:
            found.append((i, c))
    mapping, quality = _assign(found)
    return tuple(mapping.items()), quality


@dataclass(frozen=True)
class KindMatch:
    """How well a header matches one kind."""

    kind: str
    mapping: dict[int, str]
    complete: bool
    missing: tuple[str, ...]  # canonical names ("a|b" for an unmet "one of" group)
    #: sum of the match qualities (4 exact ... 1 group only) of the mapped columns: breaks
    #: ties between header candidates (a title row above a header lowers it).
    quality: int = 0

    @property
    def score(self) -> int:
        """Number of distinct canonical columns matched."""
        return len(set(self.mapping.values()))

    @property
    def fraction(self) -> float:
        """Share of the kind's canonical columns that matched (0..1)."""
        return self.score / len(KIND_SPECS[self.kind].columns)

    @property
    def required_fraction(self) -> float:
        """Share of the kind's required items (required columns + "one of" groups) present."""
        spec = KIND_SPECS[self.kind]
        n_items = len(spec.required) + len(spec.one_of)
        return (n_items - len(self.missing)) / n_items if n_items else 1.0


def match_kinds(header_cells: Sequence[object]) -> list[KindMatch]:
    """A :class:`KindMatch` for every kind, in :data:`KINDS` order."""
    found = _found_kinds(header_cells)
    # Fresh mappings: a caller may change its copy.
    return [_fresh(m) for m in found]


def _found_kinds(header_cells: Sequence[object]) -> tuple[KindMatch, ...]:
    """``match_kinds`` without copies (shared objects: read only)."""
    cells = _hashable_cells(header_cells)
    return _match_kinds(header_cells) if cells is None else _match_kinds_cached(cells)


def _fresh(m: KindMatch) -> KindMatch:
    return KindMatch(m.kind, dict(m.mapping), m.complete, m.missing, m.quality)


@lru_cache(maxsize=1 << 14)
def _match_kinds_cached(cells: tuple) -> tuple[KindMatch, ...]:
    # A header candidate (a row, or 2-3 rows of a merged header) is classified once per
    # process: the same forms come back in every file and every period.
    return _match_kinds(cells)


def _match_kinds(header_cells: Sequence[object]) -> tuple[KindMatch, ...]:
    # Each cell's parts and candidates are looked up once for all kinds.
    per_cell = [_cell_candidates(cell) for cell in header_cells]
    out = []
    for k, kind in enumerate(KINDS):
        mapping, quality = _assign([(i, c[k]) for i, c in enumerate(per_cell) if c[k] is not None])
        missing = tuple(KIND_SPECS[kind].missing(mapping.values()))
        out.append(KindMatch(kind, mapping, not missing, missing, quality))
    return tuple(out)


def _cell_candidates(cell: object) -> tuple[tuple[int, int, str] | None, ...]:
    """``_candidate(kind, parts)`` of one header cell for every kind, in :data:`KINDS` order."""
    if _is_text_cell(cell):
        return _cell_candidates_cached(cell)
    parts = _as_parts(cell)
    return tuple(_candidate(kind, parts) for kind in KINDS)


@lru_cache(maxsize=1 << 16)
def _cell_candidates_cached(cell: str | tuple) -> tuple[tuple[int, int, str] | None, ...]:
    parts = _as_parts(cell)
    return tuple(_candidate(kind, parts) for kind in KINDS)


def canonical_of(cell: object, kind: str) -> str | None:
    """The canonical column of ``kind`` that a header cell names, if any (before the
    assignment of a sheet's columns, which keeps one column per canonical name)."""
    cand = _cell_candidates(cell)[KINDS.index(kind)]
    return cand[2] if cand is not None else None


def _assign(found: list[tuple[int, tuple[int, int, str]]]) -> tuple[dict[int, str], int]:
    """Greedy assignment of (column, (quality, rank, canonical)) candidates, as in
    :func:`_match`: (mapping, sum of qualities)."""
    cands = sorted((-quality, rank, i, name) for i, (quality, rank, name) in found)
    taken: set[str] = set()
    mapping: dict[int, str] = {}
    total = 0
    for neg_quality, _, i, name in cands:
        if name in taken and name not in PERSONAL_COLUMNS:
            continue
        taken.add(name)
        mapping[i] = name
        total -= neg_quality
    return dict(sorted(mapping.items())), total


def classify(header_cells: Sequence[object]) -> tuple[str | None, dict[int, str], int]:
    """Recognise the kind of a header row.

    Returns ``(kind, mapping col_index -> canonical, score)``. ``kind`` is ``None`` when no kind
    has all its required columns; then ``mapping`` and ``score`` are those of the best partial
    match (most columns matched, ties to :data:`KINDS` order), useful for messages. Among
    complete kinds the one with the most matched columns wins; ties go to :data:`KINDS` order.
    """
    best = best_match(header_cells)
    return (best.kind if best.complete else None), best.mapping, best.score


def best_match(header_cells: Sequence[object]) -> KindMatch:
    """The best :class:`KindMatch` of a header: complete kinds first, then most columns, then
    the higher match quality, then :data:`KINDS` order."""
    best = max(
        _found_kinds(header_cells),
        key=lambda m: (m.complete, m.score, m.quality, -KINDS.index(m.kind)),
    )
    return _fresh(best)


def near_kind(header_cells: Sequence[object], threshold: float = 0.6) -> KindMatch | None:
    """The kind an unrecognised header *looks like* (>= ``threshold`` of its columns, or >= 75 %
    of its required items with at least three of them present), or ``None``. Used to refuse a sheet
    that lacks a required column instead of skipping it silently."""
    best = None
    for m in match_kinds(header_cells):
        if m.complete:
            continue
        spec = KIND_SPECS[m.kind]
        n_req_present = len(spec.required) + len(spec.one_of) - len(m.missing)
        looks = m.fraction >= threshold or (m.required_fraction >= 0.75 and n_req_present >= 3)
        if looks and (
            best is None
            or (m.fraction, m.required_fraction)
            > (
                best.fraction,
                best.required_fraction,
            )
        ):
            best = m
    return best
