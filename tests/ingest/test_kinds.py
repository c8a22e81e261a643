"""Table kinds: header aliases, merged headers, precedence, required columns."""

from __future__ import annotations

import unicodedata

import pytest

from analysis.ingest import contract as K


def classify(cells):
    """(kind or None, mapping, score) of the best match of a header row, as ingest uses it."""
    best = K.best_match(cells)
    return (best.kind if best.complete else None), best.mapping, best.score


def match_columns(kind, cells):
    """The columns of ``cells`` mapped to the canonical columns of ``kind``."""
    return next(m.mapping for m in K.match_kinds(cells) if m.kind == kind)


def test_five_kinds_with_required_columns_and_personal_flags():
    assert K.KINDS == (
        "truong",
        "cbgvnv",
        "tonghop_cks",
        "ha_tang",
        "hoc_ba",
        "ca_thue_bao",
        "chu_ky_so_to_chuc",
    )
    assert K.KIND_SPECS["truong"].required == (
        "school_code",
        "school_name",
        "level",
        "n_classes",
        "n_pupils",
    )
    # The CSDL export has no signature column, and a per-school export names its school in the
    # title rows only (issue 15): both optional.
    assert K.KIND_SPECS["cbgvnv"].required == ("staff_id", "position")
    assert K.KIND_SPECS["cbgvnv"].one_of == ()
    assert set(K.KIND_SPECS["cbgvnv"].personal) == K.PERSONAL_COLUMNS
    assert "staff_id" in K.kept_columns("cbgvnv")
    assert not K.PERSONAL_COLUMNS & set(K.kept_columns("cbgvnv"))
    assert K.kept_columns("ha_tang") == (
        "school_code",
        "school_name",
        "n_fibre",
        "speed_mbps",
        "n_computers",
    )
    assert K.kept_columns("hoc_ba") == (
        "school_code",
        "school_name",
        "grade",
        "class_name",
        "n_pupils",
        "n_signed_teacher",
        "n_signed_principal",
    )
    for kind in K.KINDS:
        spec = K.KIND_SPECS[kind]
        assert all(unicodedata.is_normalized("NFC", c.header) for c in spec.columns)
        # the Vietnamese header of every column maps to that column
        for col in spec.columns:
            assert match_columns(kind, [col.header]) == {0: col.name}, (kind, col.header)


@pytest.mark.parametrize(
    ("header", "kind", "name"),
    [
        ("Số\nlớp", "truong", "n_classes"),
        ("SỐ LỚP", "truong", "n_classes"),
        ("  số   lớp  ", "truong", "n_classes"),
        ("Mã đơn vị", "truong", "school_code"),
        ("Tên đơn vị", "truong", "school_name"),
        ("Tổng số HS", "truong", "n_pupils"),
        ("Xã/Phường", "truong", "commune"),
        ("UBND Xã", "truong", "commune"),
        ("Đơn vị hành chính cấp xã", "truong", "commune"),
        ("Phường", "truong", "ward"),
        ("Tỉnh/Thành phố", "truong", "province"),
        ("Sở GD&ĐT", "truong", "province"),
        ("Quận/Huyện", "truong", "district"),
        ("Loại hình", "truong", "ownership"),
        ("Số HS đã xác thực (CSDL dân cư)", "truong", "n_pupils_verified"),
        ("Mã trường (*)", "truong", "school_code"),
        ("Đơn vị", "cbgvnv", "school_name"),
        ("Trường", "cbgvnv", "school_name"),
        ("Nhóm chức vụ", "cbgvnv", "position"),
        ("Vị trí việc làm", "cbgvnv", "position"),
        ("Trạng thái chữ ký số", "cbgvnv", "signature_status"),
        ("Đã có CKS", "cbgvnv", "signature_status"),
        ("Đơn vị cung cấp", "cbgvnv", "provider"),
        ("CA", "cbgvnv", "provider"),
        ("Ngày hết hạn", "cbgvnv", "expires_on"),
        ("Trạng thái CB", "cbgvnv", "employment_status"),
        ("Trạng thái", "cbgvnv", "employment_status"),
        ("Mã CB", "cbgvnv", "staff_id"),
        ("Họ tên", "cbgvnv", "full_name"),
        ("Số định danh cá nhân", "cbgvnv", "id_number"),
        ("E-mail", "cbgvnv", "email"),
        ("Tổng số", "tonghop_cks", "n_staff"),
        ("Đã có CKS", "tonghop_cks", "n_signed"),
        ("Số CBGVNV đã có chữ ký số", "tonghop_cks", "n_signed"),
        ("Tỷ lệ (%)", "tonghop_cks", "rate_reported"),
        ("Tốc độ đường truyền (Mbps)", "ha_tang", "speed_mbps"),
        ("Số máy tính", "ha_tang", "n_computers"),
        ("Khối", "hoc_ba", "grade"),
        ("Lớp", "hoc_ba", "class_name"),
        ("Số học bạ GVCN đã ký", "hoc_ba", "n_signed_teacher"),
        ("Số học bạ Hiệu trưởng đã ký", "hoc_ba", "n_signed_principal"),
    ],
)
def test_aliases(header, kind, name):
    assert match_columns(kind, ["STT", header]) == {1: name}


def test_nfd_header_matches():
    header = unicodedata.normalize("NFD", "Số học bạ Hiệu trưởng đã ký")
    assert match_columns("hoc_ba", [header]) == {0: "n_signed_principal"}


def test_merged_signature_group_and_status_precedence():
    cells = [
        ("Mã định danh",),
        ("Chức vụ",),
        ("Mã trường",),
        ("Chữ ký số", "Trạng thái"),
        ("Chữ ký số", "Nhà cung cấp"),
        ("Chữ ký số", "Ngày cấp"),
        ("Chữ ký số", "Ngày hết hạn"),
        ("Trạng thái",),
    ]
    kind, mapping, score = classify(cells)
    assert kind == "cbgvnv" and score == 8
    assert mapping[3] == "signature_status"
    assert mapping[7] == "employment_status"
    assert [mapping[i] for i in (4, 5, 6)] == ["provider", "issued_on", "expires_on"]
    # flattened strings work too: the group+sub text is an alias or resolved by the sub
    flat = ["Mã định danh", "Chức vụ", "Mã trường", "Chữ ký số Nhà cung cấp", "Đã có CKS"]
    assert classify(flat)[1] == {
        0: "staff_id",
        1: "position",
        2: "school_code",
        3: "provider",
        4: "signature_status",
    }
    flat = ["Mã định danh", "Chức vụ", "Mã trường", "Chữ ký số Trạng thái", "Trạng thái"]
    assert classify(flat) == (
        "cbgvnv",
        {
            0: "staff_id",
            1: "position",
            2: "school_code",
            3: "signature_status",
            4: "employment_status",
        },
        5,
    )


def test_status_without_a_signature_column_is_not_a_signature():
    kind, mapping, _ = classify(["Mã định danh", "Chức vụ", "Mã trường", "Trạng thái"])
    # A staff list without a signature column (the CSDL export, issue 15): still a staff
    # list, and a plain "Trạng thái" is the employment status, never the signature.
    assert kind == "cbgvnv"
    assert mapping[3] == "employment_status"
    assert "signature_status" not in mapping.values()


def test_unit_row_under_a_header_and_group_subheaders():
    cells = [("Tên trường",), ("Tổng số CBGVNV", "(người)"), ("CKS", "Đã có"), ("CKS", "Tỷ lệ")]
    kind, mapping, _ = classify(cells)
    assert kind == "tonghop_cks"
    assert mapping == {0: "school_name", 1: "n_staff", 2: "n_signed", 3: "rate_reported"}
    hb = [
        ("Tên trường",),
        ("Lớp",),
        ("Sĩ số",),
        ("Số học bạ đã ký", "GVCN"),
        ("Số học bạ đã ký", "Hiệu trưởng"),
    ]
    assert classify(hb)[0] == "hoc_ba"
    id_card = [("Mã định danh",), ("CCCD", "Số"), ("CCCD", "Ngày cấp"), ("Chữ ký số", "Ngày cấp")]
    m = match_columns("cbgvnv", id_card)
    assert m == {0: "staff_id", 1: "id_number", 2: "id_number", 3: "issued_on"}


def test_each_canonical_column_is_taken_once_best_match_first():
    m = match_columns("cbgvnv", ["Nhóm chức vụ", "Chức vụ", "Chức danh"])
    assert m == {1: "position"}  # the canonical header wins, then alias order
    # personal columns may take several source columns (all dropped)
    m = match_columns("cbgvnv", ["Họ đệm", "Tên", "Mã định danh"])
    assert m == {0: "full_name", 1: "full_name", 2: "staff_id"}


def test_classify_picks_the_kind_with_most_columns_deterministically():
    truong = ["Mã trường", "Tên trường", "Cấp học", "Số lớp", "Số học sinh", "Phường"]
    assert classify(truong) == (
        "truong",
        {0: "school_code", 1: "school_name", 2: "level", 3: "n_classes", 4: "n_pupils", 5: "ward"},
        6,
    )
    # A header that has both a count form's and an infrastructure form's required columns:
    # the kind with more matched columns wins; a tie goes to KINDS order.
    both = ["Tên trường", "Tổng số", "Đã có CKS", "Số đường truyền cáp quang"]
    assert classify(both)[0] == "tonghop_cks"
    tie = ["Tên trường", "Tổng số", "Đã có CKS", "Số đường truyền cáp quang", "Số máy tính"]
    assert classify(tie)[0] == "tonghop_cks"
    assert classify(list(reversed(tie)))[0] == "tonghop_cks"


def test_unrecognised_and_near_kinds():
    assert classify(["Giá trị", "Ý nghĩa"]) == (None, {}, 0)
    lookup = ["Mã trường", "Tên trường", "Cấp học"]
    assert classify(lookup)[0] is None
    assert K.near_kind(lookup) is None  # a lookup of schools is not a broken school list
    # No signature column is a staff list since issue 15 (the CSDL export)...
    assert classify(["Mã định danh", "Họ và tên", "Chức vụ", "Mã trường", "Nhà cung cấp"])[0] == (
        "cbgvnv"
    )
    # ...but a staff list without a position is still a broken one.
    broken = [
        "Mã định danh",
        "Họ và tên",
        "Ngày sinh",
        "Mã trường",
        "Chữ ký số",
        "Nhà cung cấp",
        "Ngày cấp",
        "Ngày hết hạn",
        "Trạng thái CB",
    ]
    near = K.near_kind(broken)
    assert near is not None and near.kind == "cbgvnv"
    assert K.KIND_SPECS["cbgvnv"].missing_headers(near.mapping.values()) == ["Chức vụ"]
    no_school = ["Số đường truyền cáp quang", "Tốc độ", "Số máy tính"]
    near = K.near_kind(no_school)
    assert near is not None and near.kind == "ha_tang"
    assert K.KIND_SPECS["ha_tang"].missing_headers(near.mapping.values()) == [
        "Mã trường hoặc Tên trường"
    ]


def test_ignored_headers_and_keys():
    assert K.is_ignored_header("STT") and K.is_ignored_header(("Ghi chú",))
    assert K.is_ignored_header("") and not K.is_ignored_header("Mã trường")
    assert K.header_key("Số\nlớp") == "so lop"
    assert K.header_key("Tỷ lệ (%)") == "ty le"
    assert K.header_key_loose("Số máy tính (chiếc)") == "so may tinh"
    assert K.header_text(("Chữ ký số", "Chữ ký số")) == "Chữ ký số"  # vertical merge
    assert K.header_text(("Chữ ký số", "Trạng\nthái")) == "Chữ ký số Trạng thái"
