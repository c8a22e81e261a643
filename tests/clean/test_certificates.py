"""Signature status from the source (issue 15): the CSDL ngành staff export (no signature
column, school in the title rows, CCCD column), two providers' subscriber lists in different
layouts, the join by a keyed hash of the normalised CCCD, the school's own certificate; the
counts below are worked out by hand from the rows written here. Ends with a leak scan of every
file under the processed folder."""

from __future__ import annotations

import json
from hashlib import blake2b
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from analysis import clean, ingest
from analysis.clean import certificates
from analysis.core import privacy
from analysis.ingest import period as ingest_period
from analysis.ingest import probe as ingest_probe

KEY = b"test-key-for-the-certificates"
P = "2024-04-19"

SCHOOLS = "Mã trường,Tên trường,Cấp học,Số lớp,Số học sinh\n" + "\n".join(
    [
        "001,Trường Tiểu học Ái Mộ,Tiểu học,10,300",
        "002,Trường THCS Ái Mộ,THCS,8,280",
        "003,Trường Mầm non Hoa Sữa,Mầm non,5,120",
    ]
)

# The CSDL export (one file for one school: Ái Mộ primary, named in the title rows only).
CSDL_HEADER = [
    "STT",
    "Mã định danh\nBộ GD&ĐT",
    "Họ tên",
    "Ngày sinh",
    "Giới tính",
    "Số định danh\ncá nhân",
    "Email",
    "Số điện\nthoại",
    "Trạng thái CB",
    "Vị trí\nviệc làm",
    "Nhóm chức vụ",
    "Môn dạy",
    "UBND Xã",
    "Dân tộc",
    "Tôn giáo",
    "Trình độ\nchuyên môn",
    "Ngày vào ngành",
    "Hình thức\nhợp đồng",
    "Địa chỉ",
    "Quê quán",
]
# id, name, CCCD (as the cell holds it), status, group
CSDL_STAFF = [
    ("7900000001", "Nguyễn Thị Hoa Mai", "001088000001", "Đang làm việc", "Giáo viên"),
    ("7900000002", "Trần Văn Bình An", 12345678901, "Đang làm việc", "Giáo viên"),  # lost 0
    ("7900000003", "Lê Thị Cúc Hồng", "123456789", "Đang làm việc", "Giáo viên"),  # CMND
    ("7900000004", "Phạm Văn Dũng Tiến", "001088000004", "Đang làm việc", "Giáo viên"),
    ("7900000005", "Hoàng Thị Én Xuân", "001088000005", "Đang làm việc", "Nhân viên"),
    ("7900000006", "Vũ Văn Phúc Lộc", "001088000006", "Đang làm việc", "Giáo viên"),
    ("7900000007", "Đặng Thị Giang Sơn", "001088000007", "Đang làm việc", "Cán bộ quản lý"),
    ("7900000008", "Bùi Văn Hải Đăng", "001088000008", "Đang làm việc", "Giáo viên"),
    ("7900000009", "Đỗ Thị Ích Khiêm", "12345", "Đang làm việc", "Giáo viên"),  # bad CCCD
    ("7900000010", "Ngô Văn Khải Hoàn", "001088000010", "Nghỉ hưu", "Giáo viên"),
]
# The hand-filled list of Ái Mộ secondary (with a signature column and a CCCD column).
HAND = (
    "Mã định danh,Họ và tên,Số CCCD,Chức vụ,Mã trường,Chữ ký số,Trạng thái CB\n"
    "8800000001,Phan Thị Lan Chi,001099000011,Giáo viên,002,Đã có,Đang làm việc\n"
    "8800000002,Trịnh Văn Minh Quân,001099000012,Giáo viên,002,Chưa có,Đang làm việc\n"
    "8800000003,Mai Thị Ngọc Bích,,Giáo viên,002,Đã có,Đang làm việc\n"
    "8800000004,Lý Văn Ôn Tồn,001099000014,Hiệu trưởng,002,Đã có,Đang làm việc\n"
)
# Viettel's list: the provider only in the file name; its own column names.
VIETTEL_HEADER = [
    "STT",
    "Tên thuê bao",
    "Số CCCD/CMND",
    "Serial",
    "Từ ngày",
    "Đến ngày",
    "Tình trạng",
    "Gói dịch vụ",
    "Đơn vị",
]
VIETTEL = [
    (1, "Nguyễn Thị Hoa Mai", "001088000001", "V001", "01/01/2024", "31/05/2024", "Hoạt động",
     "USB Token", "Trường Tiểu học Ái Mộ"),  # active, expires before 30/6
    (2, "Phạm Văn Dũng Tiến", "001088000004", "V004", "01/01/2023", "01/01/2026", "Thu hồi",
     "USB Token", "Trường Tiểu học Ái Mộ"),  # revoked
    (3, "Hoàng Thị Én Xuân", "001088000005", "V005", "01/01/2021", "01/01/2024", "",
     "USB Token", "Trường Tiểu học Ái Mộ"),  # expired (blank status, dates say so)
    (4, "Đặng Thị Giang Sơn", "001088000007", "V007", "01/01/2022", "01/01/2025", "Hoạt động",
     "USB Token", "Trường Tiểu học Ái Mộ"),  # the older of two
    (5, "Người Ngoài Danh Sách", "001077000099", "V099", "01/01/2024", "01/01/2027",
     "Hoạt động", "USB Token", "Trường THCS Ái Mộ"),  # matches no staff row
    (6, "Ngô Văn Khải Hoàn", "001088000010", "V010", "01/01/2024", "01/01/2027", "Hoạt động",
     "USB Token", "Trường Tiểu học Ái Mộ"),  # retired: not counted
]  # fmt: skip
# VNPT's list: the provider only in the title rows; CSV, ';', other column names.
VNPT = (
    "TỔNG CÔNG TY DỊCH VỤ VIỄN THÔNG (VNPT-VinaPhone)\n"
    "DANH SÁCH THUÊ BAO CHỮ KÝ SỐ NGÀNH GIÁO DỤC\n"
    "\n"
    "Họ và tên;Số định danh cá nhân;Số serial;Ngày hiệu lực;Ngày hết hạn;Trạng thái;"
    "Loại chứng thư\n"
    "Trần Văn Bình An;012345678901;N002;01/03/2024;01/03/2026;Đang hoạt động;USB Token\n"
    "Lê Thị Cúc Hồng;123456789;N003;01/01/2024;01/01/2026;Hoạt động;SmartCA\n"
    "Vũ Văn Phúc Lộc;001088000006;N006;01/05/2024;01/05/2027;Đang hoạt động;USB Token\n"
    "Đặng Thị Giang Sơn;001088000007;N007;01/02/2024;01/02/2027;Hoạt động;Ký số từ xa\n"
    "Trịnh Văn Minh Quân;001099000012;N012;01/01/2024;01/01/2026;Hoạt động;Remote Signing\n"
    "Lý Văn Ôn Tồn;001099000014;N014;01/01/2024;01/01/2026;Hoạt động;HSM\n"
    "Tạ Văn Sai Số;0123-45;N900;01/01/2024;01/01/2026;Hoạt động;USB Token\n"
    "Không Có Số;;N901;01/01/2024;01/01/2026;Hoạt động;USB Token\n"
)
ORG = (
    "Mã trường,Serial chứng thư,Ngày hiệu lực,Ngày hết hạn,Trạng thái,Loại\n"
    "001,S001,01/01/2024,01/01/2027,Hoạt động,Chữ ký số cơ quan\n"
    "002,S002,01/01/2021,01/01/2024,Hết hạn,Chữ ký số cơ quan\n"
)

NAMES = [r[1] for r in CSDL_STAFF] + [
    "Phan Thị Lan Chi",
    "Trịnh Văn Minh Quân",
    "Mai Thị Ngọc Bích",
    "Lý Văn Ôn Tồn",
    "Người Ngoài Danh Sách",
    "Tạ Văn Sai Số",
    "Không Có Số",
]
CCCDS = [
    "001088000001",
    "12345678901",
    "012345678901",
    "123456789",
    "001088000004",
    "001088000005",
    "001088000006",
    "001088000007",
    "001088000008",
    "001088000010",
    "001099000011",
    "001099000012",
    "001099000014",
    "001077000099",
]


def _write_csdl(path: Path) -> None:
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Danh sách cán bộ")
    ws.write_string(0, 0, "PHÒNG GD&ĐT QUẬN LONG BIÊN")
    ws.write_string(1, 0, "Đơn vị: Trường Tiểu học Ái Mộ")
    ws.write_string(2, 0, "DANH SÁCH CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN")
    for j, h in enumerate(CSDL_HEADER):
        ws.write_string(4, j, h)
    for i, (sid, name, cccd, status, group) in enumerate(CSDL_STAFF):
        r = 5 + i
        values = [
            i + 1, sid, name, "05/04/1985", "Nữ", cccd, f"gv{i}@truong.edu.vn",
            f"09123456{i:02d}", status, "Giáo viên tiểu học hạng III", group, "Toán",
            "Phường Bồ Đề", "Kinh", "Không", "Đại học", "01/09/2010", "Biên chế",
            "Số 1 ngõ 2", "Hà Nội",
        ]  # fmt: skip
        for j, v in enumerate(values):
            if isinstance(v, int):
                ws.write_number(r, j, v)
            else:
                ws.write_string(r, j, v)
    cat = wb.add_worksheet("DM_GioiTinh")
    cat.write_row(0, 0, ["Mã", "Tên giới tính"])
    cat.write_row(1, 0, ["1", "Nam"])
    cat.write_row(2, 0, ["2", "Nữ"])
    wb.close()


def _write_viettel(path: Path) -> None:
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Thuê bao")
    ws.write_row(0, 0, VIETTEL_HEADER)
    for i, row in enumerate(VIETTEL):
        for j, v in enumerate(row):
            if isinstance(v, int):
                ws.write_number(i + 1, j, v)
            elif v:
                ws.write_string(i + 1, j, v)
    wb.close()


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    folder = root / P
    folder.mkdir(parents=True)
    (folder / "truong.csv").write_text(SCHOOLS, encoding="utf-8")
    _write_csdl(folder / "CSDL_GiaoVien_AiMo.xlsx")
    (folder / "ds_cbgvnv_thcs.csv").write_text(HAND, encoding="utf-8")
    _write_viettel(folder / "Viettel_CA_thue_bao_T3.xlsx")
    (folder / "danh_sach_thue_bao.csv").write_bytes(VNPT.encode("utf-8-sig"))
    (folder / "cks_to_chuc.csv").write_text(ORG, encoding="utf-8")
    return root


def _clean(raw: Path, tmp_path: Path) -> clean.CleanResult:
    return clean.clean_period(P, raw, tmp_path / "processed", key=KEY, jobs=1)


# ------------------------------------------------------------------------------------------
# values


def test_cccd_normalisation_rules():
    s = pd.Series(
        ["001088000001", 12345678901.0, "123456789", "0123-45", "12345", "", None, "00108800000A"],
        dtype=object,
    )
    ids, bad, padded = certificates.normalise_cccd(s)
    assert ids.tolist()[:3] == ["C001088000001", "C012345678901", "M123456789"]
    assert ids.iloc[3:].isna().all()
    assert bad.tolist() == [False, False, False, True, True, False, False, True]
    assert padded.tolist() == [False, True] + [False] * 6
    # A CMND is never padded to 12: its key differs from the CCCD "000123456789".
    keys = certificates.cccd_keys(pd.Series(["M123456789", "C000123456789"], dtype="str"), KEY)
    assert keys[0] != keys[1]


def test_join_key_is_another_domain_than_person_key():
    value = "C001088000001"
    join = certificates.cccd_keys(pd.Series([value], dtype="str"), KEY)[0]
    pk = privacy.person_key(pd.Series([value], dtype="str"), KEY, normalised=True).iloc[0]
    assert f"{int(join):016x}" != pk
    assert int(join).to_bytes(8, "little").hex() != pk


def test_provider_status_type_vocabularies():
    assert certificates.provider_in_text("Viettel_CA_thue_bao_T3") == "Viettel"
    assert certificates.provider_in_text("TỔNG CÔNG TY (VNPT-VinaPhone)") == "VNPT"
    assert certificates.provider_in_text("DANH SÁCH THUÊ BAO") is None
    active, blank, other = certificates.parse_cert_status(
        pd.Series(
            [
                "Hoạt động",
                "Đang hoạt động",
                "Tạm dừng",
                "Thu hồi",
                "Hủy",
                "Hết hạn",
                "",
                "gọi 0912345678",
            ],
            dtype=object,
        )  # fmt: skip
    )
    assert active.tolist() == [True, True] + [False] * 6
    assert blank.tolist() == [False] * 6 + [True, False]
    assert other.tolist() == [False] * 7 + [True]
    types = certificates.parse_cert_type(
        pd.Series(["USB Token", "Ký số từ xa", "SmartCA", "Remote Signing", "HSM", "Khác"])
    )
    assert types.tolist()[:5] == ["token", "remote", "remote", "remote", "hsm"]
    assert pd.isna(types.iloc[5])
    assert certificates.signing_window_end("2024-04-19") == pd.Timestamp("2024-06-30")
    assert certificates.signing_window_end("2024-09-05") == pd.Timestamp("2025-06-30")


# ------------------------------------------------------------------------------------------
# reading


def test_csdl_export_is_read_by_header_text_and_keeps_no_personal_data(raw):
    ingest.clear_cache()
    path = raw / P / "CSDL_GiaoVien_AiMo.xlsx"
    for _ in range(2):  # the second read goes through the read cache
        items = ingest.read_file(path, raw)
        tables = [i for i in items if isinstance(i, ingest.RawTable)]
        skipped = [i for i in items if isinstance(i, ingest.SkippedSheet)]
        assert [t.kind for t in tables] == ["cbgvnv"] and [s.sheet for s in skipped] == [
            "DM_GioiTinh"
        ]
        t = tables[0]
        assert t.row_classes["title"] == 3 and t.row_classes["blank"] == 1
        assert t.row_classes["data"] == 10
        assert "signature_status" not in t.data.columns
        assert set(t.data.columns) == {"staff_id", "position", "employment_status"}
        assert not {"full_name", "id_number", "phone", "email", "birth_date"} & set(t.data.columns)
        assert "Đơn vị: Trường Tiểu học Ái Mộ" in t.title_texts
        assert t.id_numbers is not None and t.id_numbers.loc[7] == 12345678901
        for h in ("Giới tính", "Môn dạy", "UBND Xã", "Vị trí việc làm", "Địa chỉ"):
            assert h in t.unmapped_columns
        assert len(t.personal_columns_dropped) == 5
    # The read cache never keeps the CCCD column.
    for _, items in ingest_period._FILE_CACHE.values():
        for item in items:
            if isinstance(item, ingest_probe._Probe):
                assert item.table is None or item.table.id_numbers is None


# ------------------------------------------------------------------------------------------
# the whole stage


def test_join_counts_by_hand(raw, tmp_path):
    res = _clean(raw, tmp_path)
    staff = res.tables["staff"]
    assert len(staff) == 14
    sbs = res.tables["signature_by_school"].set_index("school_code")
    # Ái Mộ primary, 9 working staff: signed A1 (Viettel, till 31/5), A2 (11 digits padded),
    # A3 (CMND), A7 (two certificates); not A4 (revoked), A5 (expired), A6 (not yet valid),
    # A8 (no certificate), A9 (bad CCCD, no signature column: no source). A10 retired.
    assert (sbs.loc["001", "n_staff"], sbs.loc["001", "n_signed"]) == (9, 4)
    # Ái Mộ secondary, 4: B2 and B4 by the lists, B3 by hand (no CCCD); B1 overruled.
    assert (sbs.loc["002", "n_staff"], sbs.loc["002", "n_signed"]) == (4, 3)
    assert "003" not in sbs.index
    by_level = sbs.groupby("level")[["n_staff", "n_signed"]].sum().astype(int).to_dict("index")
    assert by_level == {
        "THCS": {"n_staff": 4, "n_signed": 3},
        "Tiểu học": {"n_staff": 9, "n_signed": 4},
    }
    src = staff["signature_source"].value_counts().to_dict()
    assert src == {"ca": 12, "list": 1, "none": 1}
    signed = staff[staff["signed"] & staff["active"]].sort_values("source_row")
    assert sorted(signed["provider"].dropna().tolist()) == ["VNPT"] * 5 + ["Viettel"]
    assert sorted(signed["cert_type"].dropna().tolist()) == [
        "hsm", "remote", "remote", "remote", "token", "token",
    ]  # fmt: skip
    # A7: two certificates, one person: the provider and type of the latest (VNPT, remote),
    # the latest expiry.
    a7 = staff[(staff["source_file"].str.contains("CSDL")) & (staff["source_row"] == 12)].iloc[0]
    assert (a7["provider"], a7["cert_type"], a7["signed"]) == ("VNPT", "remote", True)
    assert a7["expires_on"] == pd.Timestamp("2027-02-01")
    assert a7["issued_on"] == pd.Timestamp("2024-02-01")

    q = res.quality["certificates"]
    assert q["lists"] is True
    assert q["certificates_read"] == 14 and q["certificates_kept"] == 12
    assert q["certificates_refused"] == 2
    assert q["active_on_period"] == 9
    assert q["by_provider"] == {"VNPT": 6, "Viettel": 6}
    assert q["matched"] == 11
    assert q["unmatched_certificate"] == {
        "total": 1,
        "by_provider": {"Viettel": 1},
        "by_school": {"002": 1},
        "by_provider_school": {"Viettel": {"002": 1}},
    }
    assert q["staff_joined"] == 12
    assert q["staff_without_certificate"] == 2  # A8, B1
    assert q["staff_without_cccd"] == 1  # B3
    assert q["staff_bad_cccd"] == 1  # A9
    assert q["staff_cccd_padded"] == 1  # A2
    assert q["overruled"] == {
        "total": 2,
        "signed_by_hand_not_in_lists": 1,
        "unsigned_by_hand_signed_in_lists": 1,
        "by_school": {"002": 2},
    }
    assert q["expiring_before_window"] == {"total": 1, "by_school": {"001": 1}}
    assert q["window_end"] == "2024-06-30"
    assert q["signature_source_missing"] == {"total": 1, "by_school": {"001": 1}}
    assert q["institutions"] == {"schools": 2, "ready": 1}
    # Refused certificates, masked, and the accounting balances for every sheet.
    quar = res.quarantine[res.quarantine["kind"] == "ca_thue_bao"]
    assert sorted(quar["reason"]) == ["bad_cccd", "missing_cccd"]
    assert quar.loc[quar["reason"] == "bad_cccd", "value"].iloc[0] == "****-**"
    assert all(i["balanced"] for i in res.quality["inputs"])
    assert res.quality["served"]["ca_thue_bao"] == P
    inst = res.tables["institution_certificates"].set_index("school_code")
    assert inst["ready"].to_dict() == {"001": True, "002": False}
    assert inst.loc["001", "expires_on"] == pd.Timestamp("2027-01-01")
    view = res.certificates()
    assert "Chứng thư không khớp CBGVNV nào" in view["Nội dung"].tolist()
    assert (raw / P / "CSDL_GiaoVien_AiMo.xlsx").is_file()


def test_without_lists_the_csdl_staff_are_unsigned_and_said(raw, tmp_path):
    for name in ("Viettel_CA_thue_bao_T3.xlsx", "danh_sach_thue_bao.csv"):
        (raw / P / name).unlink()
    res = _clean(raw, tmp_path)
    staff = res.tables["staff"]
    csdl = staff[staff["source_file"].str.contains("CSDL")]
    assert not csdl["signed"].any() and set(csdl["signature_source"]) == {"none"}
    q = res.quality["certificates"]
    assert q["lists"] is False
    assert q["signature_source_missing"] == {"total": 10, "by_school": {"001": 10}}
    sbs = res.tables["signature_by_school"].set_index("school_code")
    assert (sbs.loc["002", "n_staff"], sbs.loc["002", "n_signed"]) == (4, 3)  # by hand


def _needles() -> list[bytes]:
    out: list[bytes] = []
    for name in NAMES:
        out.append(name.encode("utf-8"))
    for c in CCCDS:
        out.append(c.encode())
    ids, _, _ = certificates.normalise_cccd(pd.Series(CCCDS, dtype=object))
    for value in ids.dropna().unique():
        h = blake2b(value.encode(), key=KEY, digest_size=8, person=certificates.CCCD_PERSON)
        d = h.digest()
        number = int.from_bytes(d, "little")
        out += [d, d.hex().encode(), d[::-1], d[::-1].hex().encode(), str(number).encode()]
        out.append(value.encode())
    return out


def test_no_cccd_name_or_hash_anywhere_under_processed(raw, tmp_path):
    _clean(raw, tmp_path)
    _clean(raw, tmp_path)  # a second run, through the caches
    root = tmp_path / "processed"
    needles = _needles()
    files = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.name == "staff.parquet" for p in files)
    for path in files:
        data = path.read_bytes()
        for n in needles:
            assert n not in data, (path, n)
        if path.suffix == ".parquet":  # compressed: look at the values too
            df = pd.read_parquet(path)
            values = df.astype(object).to_numpy().ravel().tolist()
            cells = " ".join(map(str, values)) + " " + " ".join(map(str, df.columns))
            for n in needles:
                try:
                    t = n.decode("utf-8")
                except UnicodeDecodeError:
                    continue
                assert t not in cells, (path, t)
            for col in df.columns:
                if df[col].dtype == np.uint64 or str(df[col].dtype).startswith("uint"):
                    pytest.fail(f"{path}: unsigned column {col}")
    quality = json.loads((root / P / "quality.json").read_text(encoding="utf-8"))
    assert "certificates" in quality


def test_history_takes_each_folder_certificates_at_its_own_date(raw, tmp_path):
    # The same files an earlier folder: on 10/01/2024 N002 (from 1/3) and N007 (from 1/2) are
    # not valid yet and V005 expired on 1/1; A1, A3, A7 (V007) are signed: 3 of 9. Secondary:
    # B2, B4 (from 1/1) and B3 by hand: 3 of 4.
    early = raw / "2024-01-10"
    early.mkdir()
    for p in (raw / P).iterdir():
        (early / p.name).write_bytes(p.read_bytes())
    for run in range(2):  # the second run takes the earlier folder from the history cache
        ingest.clear_cache()
        res = _clean(raw, tmp_path)
        h = res.tables["history"].set_index(["period", "school_code"])
        assert (
            h.loc[("2024-01-10", "001"), "n_staff"],
            h.loc[("2024-01-10", "001"), "n_signed"],
        ) == (
            9,
            3,
        ), run
        assert (h.loc[("2024-01-10", "002"), "n_signed"], h.loc[(P, "001"), "n_signed"]) == (3, 4)
    assert (tmp_path / "processed" / "_cache" / "history" / "2024-01-10.parquet").is_file()


def test_same_result_with_worker_processes(raw, tmp_path):
    ingest.clear_cache()
    one = clean.clean_period(P, raw, tmp_path / "p1", key=KEY, jobs=1)
    ingest.clear_cache()
    two = clean.clean_period(P, raw, tmp_path / "p2", key=KEY, jobs=2)
    for name, df in one.tables.items():
        pd.testing.assert_frame_equal(df, two.tables[name])
    assert one.quality["certificates"] == two.quality["certificates"]


def test_lists_with_no_active_certificate_sign_nobody(raw, tmp_path):
    # Every certificate revoked: the joined staff are unsigned (the list wins over "Đã có").
    folder = raw / P
    (folder / "Viettel_CA_thue_bao_T3.xlsx").unlink()
    text = VNPT.replace("Đang hoạt động", "Thu hồi").replace("Hoạt động", "Thu hồi")
    (folder / "danh_sach_thue_bao.csv").write_bytes(text.encode("utf-8-sig"))
    res = _clean(raw, tmp_path)
    staff = res.tables["staff"]
    ca = staff[staff["signature_source"] == "ca"]
    assert len(ca) == 12 and not ca["signed"].any() and ca["provider"].isna().all()
    sbs = res.tables["signature_by_school"].set_index("school_code")
    assert sbs.loc["002", "n_signed"] == 1  # B3 only, by hand (no CCCD)
    q = res.quality["certificates"]
    assert q["active_on_period"] == 0 and q["matched"] == 6  # A2, A3, A6, A7, B2, B4
    assert q["overruled"]["by_school"] == {"002": 2}  # B1, B4: "Đã có" by hand
