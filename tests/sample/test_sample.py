"""The sample data set: committed files, planted defects, reproducibility, large sets.

The committed workbooks are read with real readers (python-calamine, the csv module, the raw
zip XML for merged cells) and summed directly, independently of the cleaning code.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import zipfile
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from rapidfuzz import fuzz

from analysis import paths
from analysis.core.legacy import encode_tcvn3, encode_vni
from analysis.sample import DEFAULT_SEED, generate, main
from analysis.sample.large import write_large
from analysis.sample.world import build_world

RAW = paths.RAW_DIR
PLANTED = paths.DATA_DIR / "sample_planted.json"
REF = "2024-04-19"
# The published figures (Báo cáo 19/4/2024) that the sample must reproduce.
PUBLISHED = {"Mầm non": (82, 1127, 25915), "Tiểu học": (33, 926, 34911), "THCS": (27, 661, 26271)}
YES = {"Đã cấp", "Đã có", "x", "X", "Có", "1"}
PENDING = {"Đang đăng ký", "Đang chờ"}
NO = {"Chưa cấp", "Chưa có", "Không", ""}
LEFT = {"Nghỉ hưu", "Chuyển đi", "Nghỉ việc"}
LEVEL_WORDS = {"Tiểu học": "Tiểu học", "THCS": "THCS", "Trung học cơ sở": "THCS"}
LEVEL_WORDS["Mầm non"] = "Mầm non"

pytestmark = pytest.mark.skipif(not PLANTED.is_file(), reason="run python -m analysis sample")


# ------------------------------------------------------------------------------------------
# reading helpers (real readers, nothing from the cleaning stage)


@cache
def planted() -> dict:
    return json.loads(PLANTED.read_text(encoding="utf-8"))


@cache
def sheet_rows(root: Path, rel: str, sheet: str) -> list[list]:
    """All rows of a sheet (xlsx via calamine) or a CSV file (decoded as written)."""
    path = root / rel
    if rel.endswith(".csv"):
        data = path.read_bytes()
        src = source(rel, "")
        text = data.decode(src.get("encoding", "utf-8"))
        return [list(r) for r in csv.reader(io.StringIO(text), delimiter=src["delimiter"])]
    wb = CalamineWorkbook.from_path(str(path))
    return wb.get_sheet_by_name(sheet).to_python()


def row(rel: str, sheet: str, n: int, root: Path = RAW) -> list:
    return sheet_rows(root, rel, sheet)[n - 1]


def source(rel: str, sheet: str) -> dict:
    for s in planted()["sources"]:
        if s["file"] == rel and s["sheet"] == sheet:
            return s
    raise KeyError((rel, sheet))


def clean(value) -> str:
    """What a careful reader sees in a text cell (NFC, no NBSP/zero-width, single spaces)."""
    if value is None:
        return ""
    s = unicodedata.normalize("NFC", str(value)).replace("\u00a0", " ").replace("\u200b", "")
    return re.sub(r"\s+", " ", s).strip()


def encoder(src: dict):
    enc = src.get("encoding")
    if enc == "tcvn3":
        return encode_tcvn3
    if enc == "vni":
        return encode_vni
    if enc == "nfd":
        return lambda s: unicodedata.normalize("NFD", s)
    return lambda s: s


def col(src: dict, *labels: str) -> int:
    enc = encoder(src)
    cols = src["columns"]
    for label in labels:
        for form in (label, enc(label)):
            if form in cols:
                return cols.index(form)
    raise KeyError((src["file"], labels))


def decoded(src: dict, value) -> str:
    """Map an encoded vocabulary cell back by comparing with the encoded vocabulary."""
    enc = encoder(src)
    raw = "" if value is None else str(value)
    for word in YES | PENDING | NO | LEFT | {"Đang làm việc"}:
        if raw == enc(word):
            return word
    return clean(raw)


def number(value) -> float:
    """A count as a person reads it: 1245.0, '1.245', '69,8%'."""
    if isinstance(value, (int, float)):
        return float(value)
    s = clean(value).rstrip("%").strip()
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+", s):
        s = s.replace(".", "")
    return float(s.replace(",", "."))


def as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        return date(1899, 12, 30) + timedelta(days=int(value))
    s = clean(value)
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def data_rows(src: dict, root: Path = RAW) -> list[tuple[int, list]]:
    rows = sheet_rows(root, src["file"], src["sheet"])
    return [(n, rows[n - 1]) for n in range(src["first_row"], src["last_row"] + 1)]


def quarantined_rows(rel: str) -> set[int]:
    out = set()
    for d in planted()["defects"]:
        if d["file"] == rel and d["expected"] == "quarantined":
            out.update(d.get("rows", [d["row"]]))
    return out


def sources(period: str, kind: str) -> list[dict]:
    return [s for s in planted()["sources"] if s["period"] == period and s["kind"] == kind]


def school_names() -> dict[str, str]:
    return {s["school_code"]: s["school_name"] for s in planted()["schools"]}


# ------------------------------------------------------------------------------------------
# committed files: the published totals, summed from the data rows


def test_truong_reproduces_published_scale():
    (src,) = sources("2023-12-15", "truong")
    c_code, c_level = col(src, "Mã trường"), col(src, "Cấp học")
    c_cls, c_pup = col(src, "Số lớp"), col(src, "Số học sinh")
    codes, totals = set(), {lv: [0, 0, 0] for lv in PUBLISHED}
    for _, r in data_rows(src):
        code = r[c_code]
        codes.add(f"{int(code):08d}" if isinstance(code, float) else code)
        t = totals[LEVEL_WORDS[clean(r[c_level])]]
        t[0] += 1
        t[1] += int(number(r[c_cls]))
        t[2] += int(number(r[c_pup]))
    assert {lv: tuple(t) for lv, t in totals.items()} == PUBLISHED
    assert len(codes) == 142 and all(re.fullmatch(r"0\d{7}", c) for c in codes)
    total = row(src["file"], src["sheet"], src["total_row"])
    assert clean(total[col(src, "Tên trường")]) == "Tổng cộng"
    assert number(total[c_cls]) == 2714 and number(total[c_pup]) == 87097


def test_infrastructure_totals():
    (src,) = sources(REF, "ha_tang")
    c_fibre = col(src, "Đường truyền cáp quang / Số đường truyền")
    c_speed = col(src, "Đường truyền cáp quang / Tốc độ (Mbps)")
    c_comp = col(src, "Số máy tính phục vụ quản lý")
    rows = data_rows(src)
    fibre = [number(r[c_fibre]) for _, r in rows]
    speeds = [number(r[c_speed]) for _, r in rows]
    assert len(rows) == 142
    assert sum(fibre) == 246 and set(fibre) <= {1, 2, 3}
    assert sum(number(r[c_comp]) for _, r in rows) == 866
    assert min(speeds) >= 70
    total = row(src["file"], src["sheet"], src["total_row"])
    assert number(total[c_fibre]) == 246 and number(total[c_comp]) == 866


def test_records_per_class_add_up():
    main_src = next(s for s in sources("2024-06-24", "hoc_ba") if s.get("total_row"))
    c_code, c_pup = col(main_src, "Mã trường"), col(main_src, "Số học sinh")
    c_t = col(main_src, "Số học bạ đã ký / GVCN")
    c_p = col(main_src, "Số học bạ đã ký / Hiệu trưởng")
    rows = data_rows(main_src)
    assert len(rows) == PUBLISHED["Tiểu học"][1]
    assert sum(number(r[c_pup]) for _, r in rows) == PUBLISHED["Tiểu học"][2]
    for _, r in rows:
        assert 0 <= number(r[c_p]) <= number(r[c_t]) <= number(r[c_pup])
    teacher = sum(number(r[c_t]) for _, r in rows) / PUBLISHED["Tiểu học"][2]
    principal = sum(number(r[c_p]) for _, r in rows) / PUBLISHED["Tiểu học"][2]
    assert 0.85 <= teacher <= 0.95 and 0.75 <= principal <= 0.85
    assert {r[c_code] for _, r in rows} <= set(school_names())
    assert len({r[c_code] for _, r in rows}) == 33


def staff_from_files(period: str, level: str) -> tuple[int, int, int]:
    """(active staff, signed, pending) of one level, read from the raw lists and counts:
    refused rows set aside as planted.json says, each Mã định danh counted once."""
    people: dict[str, tuple[bool, str]] = {}
    listed_schools = set()
    for src in sources(period, "cbgvnv"):
        if src["level"] != level:
            continue
        skip = quarantined_rows(src["file"])
        c_id = col(src, "Mã định danh", "Mã CB")
        c_emp = col(src, "Trạng thái CB", "Trạng thái")
        c_sig = col(src, "Chữ ký số / Trạng thái", "Chữ ký số", "Đã có CKS", "Trạng thái chữ ký số")
        for n, r in data_rows(src):
            if n in skip:
                continue
            staff_id = clean(r[c_id])
            assert staff_id, (src["file"], n)
            active = decoded(src, r[c_emp]) in {"Đang làm việc", ""}
            sig = decoded(src, r[c_sig])
            assert sig in YES | PENDING | NO, (src["file"], n, sig)
            people[staff_id] = (active, sig)
        if src.get("school_code"):
            listed_schools.add(src["school_code"])
    n_staff = sum(a for a, _ in people.values())
    n_signed = sum(a and s in YES for a, s in people.values())
    n_pending = sum(a and s in PENDING for a, s in people.values())
    codes = {s["school_code"] for s in planted()["schools"] if s["level"] == level}
    for cr in planted()["counts_rows"]:
        if cr["period"] != period or cr["school_code"] not in codes or cr["superseded"]:
            continue
        src = source(cr["file"], cr["sheet"])
        r = row(cr["file"], cr["sheet"], cr["row"])
        total = number(r[col(src, "Tổng số CBGVNV")])
        signed = number(r[col(src, "Số CBGVNV đã có chữ ký số")])
        assert (total, signed) == (cr["n_staff"], cr["n_signed"])
        n_staff += int(total)
        n_signed += int(signed)
    return n_staff, n_signed, n_pending


def test_reference_period_primary_is_1248_of_1787():
    assert staff_from_files(REF, "Tiểu học")[:2] == (1787, 1248)


@pytest.mark.parametrize("level", ["Tiểu học", "THCS"])
def test_expected_staff_totals_match_the_files(level):
    for period in planted()["periods"]:
        exp = planted()["expected"][period][level]
        got = staff_from_files(period, level)
        assert got == (exp["n_staff"], exp["n_signed"], exp["n_pending"]), period


def test_coverage_rises_and_some_signatures_expire_in_2024():
    exp = planted()["expected"]
    for level in ("Tiểu học", "THCS"):
        rates = [exp[p][level]["n_signed"] / exp[p][level]["n_staff"] for p in exp]
        assert all(b > a for a, b in zip(rates, rates[1:], strict=False)), rates
        assert 0.1 < rates[0] < 0.3 and rates[-1] > 0.85
    (src,) = [s for s in sources(REF, "cbgvnv") if s["file"].endswith("TieuHoc_20240419.xlsx")]
    c_exp = col(src, "Chữ ký số / Ngày hết hạn")
    skip = quarantined_rows(src["file"])
    expiring = [
        as_date(r[c_exp]) for n, r in data_rows(src) if n not in skip and r[c_exp] not in ("", None)
    ]
    assert min(expiring) > date(2024, 6, 24)
    assert sum(d.year == 2024 for d in expiring) >= 20


def test_personal_values_are_in_the_raw_files():
    pv = planted()["personal_values"]
    (src,) = [s for s in sources(REF, "cbgvnv") if s["file"].endswith("TieuHoc_20240419.xlsx")]
    cells = {clean(v) for _, r in data_rows(src) for v in r if isinstance(v, str)}
    for key in ("full_name", "id_number", "phone", "email"):
        assert len(pv[key]) >= 300
        assert len(cells & set(pv[key])) >= 50, key


# ------------------------------------------------------------------------------------------
# every planted defect exists where planted.json says


def _merged_ranges(rel: str, sheet: str) -> list[str]:
    wb = CalamineWorkbook.from_path(str(RAW / rel))
    idx = wb.sheet_names.index(sheet) + 1
    with zipfile.ZipFile(RAW / rel) as z:
        xml = z.read(f"xl/worksheets/sheet{idx}.xml").decode("utf-8")
    return re.findall(r'<mergeCell ref="([A-Z]+\d+:[A-Z]+\d+)"', xml)


def _cell(src: dict, r: list, label: str):
    return r[col(src, label)]


def check_defect(d: dict) -> None:
    rel, sheet, kind = d["file"], d["sheet"], d["defect"]
    rows = d.get("rows", [d["row"]])
    if kind == "lookup_sheet":
        head = [clean(v) for v in row(rel, sheet, 1)]
        assert "Mã định danh" not in head and len(sheet_rows(RAW, rel, sheet)) > 5
        return
    if kind == "cp1258_csv":
        data = (RAW / rel).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        header = unicodedata.normalize("NFC", data.decode("cp1258")).splitlines()[d["row"] - 1]
        assert header.startswith("STT;Mã định danh;Họ và tên")
        return
    if kind == "utf8_bom_csv":
        assert (RAW / rel).read_bytes().startswith(b"\xef\xbb\xbfM")
        return
    src = source(rel, sheet)
    for n in rows:
        r = row(rel, sheet, n)
        texts = [v for v in r if isinstance(v, str)]
        if kind == "title_rows":
            assert texts and texts[0].strip() and n < src["header_rows"][0]
        elif kind in ("total_row",):
            assert "Tổng cộng" in {clean(v) for v in r}
            assert n == src["last_row"] + 1
        elif kind == "footer":
            assert n > src["last_row"] and any(t.strip() for t in texts)
        elif kind == "merged_header":
            merged = _merged_ranges(rel, sheet)
            spans = [m for m in merged if re.fullmatch(rf"[A-Z]+{n}:[A-Z]+{n}", m)]
            assert spans, merged  # a group cell over several columns
            assert any(re.fullmatch(rf"[A-Z]+{n}:[A-Z]+{n + 1}", m) for m in merged)
        elif kind in ("tcvn3", "vni"):
            enc = encode_tcvn3 if kind == "tcvn3" else encode_vni
            assert enc("Họ và tên") in r and "Họ và tên" not in r
            body = [v for _, rr in data_rows(src) for v in rr if isinstance(v, str)]
            assert any(enc("Giáo viên") == v for v in body)
            assert not any(re.search("[ăđơưĂĐƠƯạ-ỹ]", v) for v in body)
        elif kind == "nfd":
            assert any(unicodedata.normalize("NFC", t) != t for t in texts)
        elif kind == "duplicate_person":
            assert r == row(rel, sheet, d["staff_row"]) and clean(r[col(src, "Mã định danh")])
        elif kind == "moved_person":
            staff_id = clean(r[col(src, "Mã định danh")])
            others = [
                o
                for o in planted()["defects"]
                if o["defect"] == "moved_person"
                and o["file"] != rel
                and o["file"].split("/")[0] == rel.split("/")[0]
            ]
            assert len(others) == 1
            o_src = source(others[0]["file"], others[0]["sheet"])
            o_row = row(others[0]["file"], others[0]["sheet"], others[0]["row"])
            assert clean(o_row[col(o_src, "Mã định danh")]) == staff_id
        elif kind == "expiry_before_issue":
            issued = as_date(_cell(src, r, "Chữ ký số / Ngày cấp"))
            assert as_date(_cell(src, r, "Chữ ký số / Ngày hết hạn")) < issued
        elif kind == "missing_id":
            assert clean(_cell(src, r, "Mã định danh")) == ""
        elif kind == "bad_status":
            value = clean(_cell(src, r, "Chữ ký số / Trạng thái"))
            assert value == d["value"] and value not in YES | PENDING | NO
        elif kind == "signed_gt_total":
            signed = number(_cell(src, r, "Số CBGVNV đã có chữ ký số"))
            assert signed > number(_cell(src, r, "Tổng số CBGVNV"))
        elif kind == "negative_count":
            counts = [_cell(src, r, "Tổng số CBGVNV"), _cell(src, r, "Số CBGVNV đã có chữ ký số")]
            assert min(number(v) for v in counts) < 0
        elif kind in ("unknown_school", "fuzzy_school"):
            name = clean(_cell(src, r, "Tên trường"))
            assert name == d["value"]
            shorts = [
                re.sub(r"^Trường (Mầm non|Tiểu học|THCS) ", "", n) for n in school_names().values()
            ]
            short = re.sub(r"^Trường (Mầm non|Tiểu học|THCS) ", "", name)
            assert short not in shorts
            best = max(fuzz.ratio(short, s) for s in shorts)
            if kind == "fuzzy_school":
                cand = school_names()[d["candidate"]]
                assert fuzz.ratio(short, re.sub(r"^Trường \S+ ", "", cand)) >= 85 or best >= 85
            else:
                assert best < 75
        elif kind == "principal_gt_teacher":
            principal = number(_cell(src, r, "Số học bạ Hiệu trưởng đã ký"))
            assert principal > number(_cell(src, r, "Số học bạ GVCN đã ký"))
        elif kind == "leading_zero_lost":
            value = _cell(src, r, "Mã trường")
            assert isinstance(value, float) and f"{int(value):08d}" in school_names()
        elif kind == "rate_mismatch":
            total = number(_cell(src, r, "Tổng số CBGVNV"))
            signed = number(_cell(src, r, "Số CBGVNV đã có chữ ký số"))
            assert abs(number(_cell(src, r, "Tỷ lệ (%)")) - 100 * signed / total) > 0.1
        elif kind == "list_and_counts":
            by_school = planted()["expected_by_school"][rel.split("/")[0]][d["school_code"]]
            assert by_school["basis"] == "list"
            got = (
                number(_cell(src, r, "Tổng số CBGVNV")),
                number(_cell(src, r, "Số CBGVNV đã có chữ ký số")),
            )
            assert got != (by_school["n_staff"], by_school["n_signed"])
        elif kind == "left_staff":
            assert decoded(src, r[col(src, "Trạng thái CB", "Trạng thái")]) in LEFT
        elif kind == "pending":
            c_sig = col(
                src, "Chữ ký số / Trạng thái", "Chữ ký số", "Đã có CKS", "Trạng thái chữ ký số"
            )
            assert decoded(src, r[c_sig]) in PENDING
        elif kind == "serial_date":
            value = _cell(src, r, "Chữ ký số / Ngày cấp")
            assert isinstance(value, float) and 45000 < value < 46000
        elif kind == "text_date":
            assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", _cell(src, r, "Chữ ký số / Ngày cấp"))
        elif kind == "blank_status":
            assert _cell(src, r, "Trạng thái CB") == ""
        elif kind == "zero_width":
            assert any("\u200b" in t for t in texts)
        elif kind == "nbsp":
            assert any("\u00a0" in t for t in texts)
        elif kind == "double_space":
            assert any("  " in t for t in texts)
        elif kind == "old_tone":
            assert any("Thuỵ" in unicodedata.normalize("NFC", t) for t in texts)
        elif kind == "alias_school":
            aliases = {a["alias"] for a in planted()["aliases"]}
            assert {clean(t) for t in texts} & aliases
        elif kind == "text_number":
            assert isinstance(_cell(src, r, d["column"]), str) and number(
                _cell(src, r, d["column"])
            )
        elif kind == "level_alias":
            assert clean(_cell(src, r, "Cấp học")) == "Trung học cơ sở"
        else:  # pragma: no cover - a new defect kind needs a check here
            raise AssertionError(f"no check for defect {kind}")


def test_every_planted_defect_exists():
    defects = planted()["defects"]
    kinds = {d["defect"] for d in defects}
    required = {
        "tcvn3",
        "vni",
        "nfd",
        "cp1258_csv",
        "utf8_bom_csv",
        "total_row",
        "title_rows",
        "merged_header",
        "duplicate_person",
        "moved_person",
        "expiry_before_issue",
        "missing_id",
        "bad_status",
        "signed_gt_total",
        "unknown_school",
        "fuzzy_school",
        "negative_count",
        "principal_gt_teacher",
        "leading_zero_lost",
        "lookup_sheet",
        "rate_mismatch",
        "list_and_counts",
        "left_staff",
        "pending",
    }
    assert required <= kinds
    reasons = {
        "expiry_before_issue",
        "missing_id",
        "bad_status",
        "signed_gt_total",
        "unmatched_school",
        "fuzzy_school",
        "negative_count",
        "principal_gt_teacher",
        "bad_number",
        "bad_date",
    }
    for d in defects:
        assert d["expected"] in {"repaired", "quarantined", "skipped", "warning", "counted_once"}
        assert (d["expected"] == "quarantined") == ("reason" in d)
        if "reason" in d:
            assert d["reason"] in reasons
        check_defect(d)


def test_files_listed_exist_and_are_small():
    files = planted()["files"]
    assert "DU_LIEU_MAU.txt" not in files or (RAW / "DU_LIEU_MAU.txt").is_file()
    assert (RAW / "DU_LIEU_MAU.txt").read_text(encoding="utf-8").startswith("DỮ LIỆU MẪU")
    total = sum((RAW / f).stat().st_size for f in files)
    assert total < 5_000_000
    periods = {f.split("/")[0] for f in files if "/" in f}
    assert periods == set(planted()["periods"])


# ------------------------------------------------------------------------------------------
# the generator reproduces the committed files


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "raw"
    foreign = out / REF / "bao_cao.toml"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("# not the generator's\n", encoding="utf-8")
    generate(out, DEFAULT_SEED)
    return out


def test_generator_reproduces_committed_files(regenerated):
    for rel in planted()["files"]:
        new, old = regenerated / rel, RAW / rel
        if rel.endswith(".xlsx"):
            a, b = CalamineWorkbook.from_path(str(new)), CalamineWorkbook.from_path(str(old))
            assert a.sheet_names == b.sheet_names, rel
            for name in a.sheet_names:
                assert (
                    a.get_sheet_by_name(name).to_python() == b.get_sheet_by_name(name).to_python()
                ), (rel, name)
        else:
            assert new.read_bytes() == old.read_bytes(), rel
    regenerated_planted = json.loads((regenerated.parent / "sample_planted.json").read_text())
    assert regenerated_planted == planted()
    # it never deletes what is not its own
    assert (regenerated / REF / "bao_cao.toml").read_text() == "# not the generator's\n"


def test_world_depends_on_seed_only():
    a, b, c = build_world(7), build_world(7), build_world(8)
    assert a.persons.equals(b.persons) and a.schools.equals(b.schools)
    assert not a.persons["staff_id"].equals(c.persons["staff_id"])
    # every seed keeps the published totals
    for w in (a, c):
        by_level = w.schools.groupby("level")[["n_classes", "n_pupils"]].sum()
        assert by_level.loc["Tiểu học"].tolist() == [926, 34911]
        assert w.infra["n_fibre"].sum() == 246 and w.infra["n_computers"].sum() == 866


# ------------------------------------------------------------------------------------------
# large synthetic sets


def test_write_large_csv_writes_what_it_says(tmp_path):
    info = write_large(tmp_path, 2500, fmt="csv", seed=3)
    assert info["n_staff"] == 2500
    staff_rows = 0
    school_codes: set[str] = set()
    for f in info["files"]:
        with open(tmp_path / f["file"], encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == f["rows"]
        if f["kind"] == "truong":
            assert len(rows) == info["n_schools"]
            assert {"Quận/Huyện", "Mã trường", "Số học sinh"} <= set(rows[0])
            school_codes = {r["Mã trường"] for r in rows}
            assert len({r["Quận/Huyện"] for r in rows}) == info["n_districts"]
        else:
            staff_rows += len(rows)
            assert {r["Mã trường"] for r in rows} <= school_codes
            assert len({r["Mã định danh"] for r in rows}) == len(rows)
    assert staff_rows == 2500
    again = tmp_path / "again"
    write_large(again, 2500, fmt="csv", seed=3)
    for f in info["files"]:
        assert (again / f["file"]).read_bytes() == (tmp_path / f["file"]).read_bytes()


def test_write_large_xlsx_and_cli(tmp_path):
    info = write_large(tmp_path / "x", 300, fmt="xlsx")
    for f in info["files"]:
        wb = CalamineWorkbook.from_path(str(tmp_path / "x" / f["file"]))
        rows = wb.get_sheet_by_name(wb.sheet_names[0]).to_python()
        assert len(rows) == f["rows"] + 1  # the header
    assert main(["--large", "200", "--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "2024-04-19" / "CBGVNV_phan_01.csv").is_file()


# ------------------------------------------------------------------------------------------
# the school year 2025-2026 (after the reform of 1/7/2025), read back with openpyxl


def reform() -> dict:
    return planted()["reform"]


def reform_sources(period: str, kind: str) -> list[dict]:
    return [s for s in reform()["sources"] if s["period"] == period and s["kind"] == kind]


@cache
def xlsx_table(rel: str, root: Path = RAW) -> tuple[list[str], list[list], list]:
    """(header, data rows, total row or None) of a report-style sheet, read with openpyxl:
    the header is the row whose first cell is 'STT' (a merged group row above is joined)."""
    from openpyxl import load_workbook

    wb = load_workbook(root / rel, read_only=True, data_only=True)
    rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    h = next(i for i, r in enumerate(rows) if r[0] == "STT")
    header = [str(c) if c is not None else "" for c in rows[h]]
    start = h + 1
    if rows[start][0] is None:  # a two-row header: the group row, then the labels
        group = header
        header = []
        last = ""
        for g, lab in zip(group, rows[start], strict=True):
            last = g or last
            header.append(f"{last} / {lab}" if lab else g)
        start += 1
    data, total = [], None
    for r in rows[start:]:
        if isinstance(r[0], int):
            data.append(r)
        elif any(isinstance(v, str) and v.strip() == "Tổng cộng" for v in r):
            total = r
    return header, data, total


def test_reform_periods_follow_the_reform():
    assert reform()["periods"] == ["2025-10-17", "2025-12-12"]
    assert all(date.fromisoformat(p) >= date(2025, 7, 1) for p in reform()["periods"])
    assert set(reform()["periods"]) <= set(paths.list_periods(RAW))
    files = reform()["files"]
    assert {f.split("/")[0] for f in files} == set(reform()["periods"])
    assert not set(files) & set(planted()["files"])
    assert sum((RAW / f).stat().st_size for f in files) < 2_000_000


def test_reform_school_list_same_codes_new_communes():
    (src,) = reform_sources("2025-10-17", "truong")
    header, data, total = xlsx_table(src["file"])
    assert header == [
        "STT",
        "Mã trường",
        "Tên trường",
        "Cấp học",
        "Loại hình",
        "Tỉnh/Thành phố",
        "Xã/Phường",
        "Số lớp",
        "Số học sinh",
        "Số HS có mã định danh",
        "Số HS đã xác thực",
    ]
    c = {h: i for i, h in enumerate(header)}
    assert {r[c["Tỉnh/Thành phố"]] for r in data} == {"Thành phố Hà Nội"}
    communes = {r[c["Xã/Phường"]] for r in data}
    assert communes == {
        "Phường Long Biên",
        "Phường Bồ Đề",
        "Phường Việt Hưng",
        "Phường Phúc Lợi",
        "Phường Hồng Hà",
    }
    # the 142 schools of 2023-2024 keep their codes and names
    old = school_names()
    names = {r[c["Mã trường"]]: r[c["Tên trường"]] for r in data}
    assert {k: names[k] for k in old} == old
    # each old ward goes to its main phường unless the school's own address says otherwise
    wards = {s["school_code"]: s["ward"] for s in planted()["schools"]}
    where = {r[c["Mã trường"]]: r[c["Xã/Phường"]] for r in data}
    moved = {k for k in old if where[k] != reform()["ward_commune"][wards[k]]}
    assert 3 <= len(moved) <= 15
    assert {where[k] for k in old if wards[k] == "Cự Khối"} == {"Phường Long Biên"}
    assert {wards[k] for k in old if where[k] == "Phường Hồng Hà"} <= {"Ngọc Thụy", "Bồ Đề"}
    # THPT schools of the area, and one multi-level school with one row per level
    levels = [r[c["Cấp học"]] for r in data]
    assert levels.count("THPT") == 5
    thpt = [r for r in data if r[c["Cấp học"]] == "THPT"]
    assert all(r[c["Tên trường"]].startswith("Trường THPT ") for r in thpt)
    assert not {r[c["Mã trường"]] for r in thpt} & set(old)
    codes = [r[c["Mã trường"]] for r in data]
    (multi,) = [k for k in set(codes) if codes.count(k) > 1]
    rows = [r for r in data if r[c["Mã trường"]] == multi]
    assert [r[c["Cấp học"]] for r in rows] == ["Tiểu học", "THCS"]
    assert len({r[c["Tên trường"]] for r in rows}) == 1
    assert "TH&THCS" in rows[0][c["Tên trường"]]
    assert reform()["multi_level"]["school_code"] == multi
    # per level as planted; the total row adds up
    exp = reform()["expected"]["2025-10-17"]
    for level in ("Mầm non", "Tiểu học", "THCS", "THPT"):
        sub = [r for r in data if r[c["Cấp học"]] == level]
        assert sum(r[c["Số lớp"]] for r in sub) == exp[level]["n_classes"], level
        assert sum(r[c["Số học sinh"]] for r in sub) == exp[level]["n_pupils"], level
    assert exp["Trường nhiều cấp học"]["n_schools"] == 1
    assert exp["Tổng cộng"]["n_schools"] == len(set(codes)) == 148
    assert total[c["Số lớp"]] == sum(r[c["Số lớp"]] for r in data)


def reform_staff(period: str) -> dict[str, tuple[str, str, bool, str]]:
    """staff id -> (school code, level, active, signature status) over a period's lists."""
    out: dict[str, tuple[str, str, bool, str]] = {}
    for src in reform_sources(period, "cbgvnv"):
        header, data, _ = xlsx_table(src["file"])
        c = {h: i for i, h in enumerate(header)}
        for r in data:
            sid = r[c["Mã định danh"]]
            assert sid not in out, (src["file"], sid)
            level = r[c["Cấp học"]] if "Cấp học" in c else src["level"]
            active = r[c["Trạng thái CB"]] == "Đang làm việc"
            out[sid] = (r[c["Mã trường"]], level, active, r[c["Chữ ký số / Trạng thái"]])
    return out


def staff_ids_2024(period: str = "2024-06-24") -> dict[str, str]:
    """staff id -> school code in the 2024 district exports (the world's ids)."""
    w = build_world(planted()["seed"])
    return dict(zip(w.persons["staff_id"], w.persons["school_code"], strict=True))


def test_reform_staff_lists_keep_ids_and_add_levels():
    before = staff_ids_2024()
    moved = {m["staff_id"]: m["school_code"] for m in reform()["moved_staff"]}
    assert len(moved) >= 10
    for period in reform()["periods"]:
        staff = reform_staff(period)
        exp = reform()["expected"][period]
        for level in ("Tiểu học", "THCS", "THPT"):
            mine = [v for v in staff.values() if v[1] == level and v[2]]
            got = (len(mine), sum(v[3] == "Đã cấp" for v in mine))
            for cr in reform()["counts_rows"]:
                if cr["period"] == period and cr["level"] == level:
                    _, data, _ = xlsx_table(cr["file"])
                    (r,) = data
                    assert r[1] == cr["school_code"] and (r[3], r[4]) == (
                        cr["n_staff"],
                        cr["n_signed"],
                    )
                    got = (got[0] + r[3], got[1] + r[4])
            assert got == (exp[level]["n_staff"], exp[level]["n_signed"]), (period, level)
            pend = sum(v[3] == "Đang đăng ký" for v in mine)
            assert pend == exp[level]["n_pending"], (period, level)
        stay = [k for k, v in staff.items() if k in before and v[1] in ("Tiểu học", "THCS")]
        primary = [k for k, v in staff.items() if v[1] in ("Tiểu học", "THCS")]
        assert 0.85 < len(stay) / len(primary) < 0.99  # most stay, some are new
        # those who stay keep their id and school, except the few who moved
        assert all(staff[k][0] == before[k] for k in stay if k not in moved)
        assert all(staff[k][0] == moved[k] != before[k] for k in moved if k in staff)
        # the multi-level school lists staff under both of its levels
        multi = reform()["multi_level"]["school_code"]
        assert {v[1] for v in staff.values() if v[0] == multi} == {"Tiểu học", "THCS"}
    a, b = (reform()["expected"][p] for p in reform()["periods"])
    last_2024 = planted()["expected"]["2024-06-24"]
    for level in ("Tiểu học", "THCS"):
        rates = [e[level]["n_signed"] / e[level]["n_staff"] for e in (last_2024, a, b)]
        assert rates == sorted(rates) and rates[0] < rates[-1], (level, rates)
    assert a["THPT"]["n_signed"] < b["THPT"]["n_signed"]


def test_reform_infrastructure_covers_every_school():
    (src,) = reform_sources("2025-10-17", "ha_tang")
    header, data, total = xlsx_table(src["file"])
    c = {h: i for i, h in enumerate(header)}
    exp = reform()["expected"]["2025-10-17"]["Tổng cộng"]
    assert len({r[c["Mã trường"]] for r in data}) == len(data) == exp["n_schools"]
    comp = c["Số máy tính phục vụ quản lý"]
    assert sum(r[comp] for r in data) == exp["n_computers"] == total[comp] >= 866
    fibre = c["Đường truyền cáp quang / Số đường truyền"]
    assert sum(r[fibre] for r in data) == exp["n_fibre"] == total[fibre]


def test_reform_records_reach_thcs():
    (src,) = reform_sources("2025-12-12", "hoc_ba")
    header, data, total = xlsx_table(src["file"])
    c = {h: i for i, h in enumerate(header)}
    exp = reform()["expected"]["2025-12-12"]
    for level, grades in (("Tiểu học", {1, 2, 3, 4, 5}), ("THCS", {6, 7, 8, 9})):
        sub = [r for r in data if r[c["Cấp học"]] == level]
        assert {r[c["Khối"]] for r in sub} == grades
        assert len(sub) == exp[level]["n_records"] == exp[level]["n_classes"]
        assert sum(r[c["Số học sinh"]] for r in sub) == exp[level]["n_pupils"]
        t = sum(r[c["Số học bạ đã ký / GVCN"]] for r in sub)
        p = sum(r[c["Số học bạ đã ký / Hiệu trưởng"]] for r in sub)
        assert (t, p) == (exp[level]["n_signed_teacher"], exp[level]["n_signed_principal"])
        for r in sub:
            assert 0 <= r[c["Số học bạ đã ký / Hiệu trưởng"]] <= r[c["Số học bạ đã ký / GVCN"]]
            assert r[c["Số học bạ đã ký / GVCN"]] <= r[c["Số học sinh"]]
    assert total[c["Số học sinh"]] == sum(r[c["Số học sinh"]] for r in data)


def test_reform_is_independent_of_2023_2024_files(tmp_path):
    """The 2023-2024 bytes do not depend on the reform periods, and both are deterministic."""
    generate(tmp_path / "a", DEFAULT_SEED, tmp_path / "a.json", reform=False)
    generate(tmp_path / "b", DEFAULT_SEED, tmp_path / "b.json")
    for rel in planted()["files"]:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
        assert (tmp_path / "b" / rel).read_bytes() == (RAW / rel).read_bytes(), rel
    for rel in reform()["files"]:
        assert not (tmp_path / "a" / rel).exists()
        assert (tmp_path / "b" / rel).read_bytes() == (RAW / rel).read_bytes(), rel
    a = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert "reform" not in a and a == {k: v for k, v in planted().items() if k != "reform"}


# ------------------------------------------------------------------------------------------
# the Hà Nội-size province (benchmarks), at a small size


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_write_province_writes_what_it_says(tmp_path, fmt):
    from analysis.sample.province import write_province

    info = write_province(tmp_path, n_communes=6, n_schools=150, n_staff=3000, fmt=fmt)
    assert (info["n_communes"], info["n_schools"], info["n_staff"]) == (6, 150, 3000)
    tables: dict[str, list[dict]] = {}
    for f in info["files"]:
        path = tmp_path / f["file"]
        if fmt == "csv":
            with open(path, encoding="utf-8", newline="") as fh:
                rows = list(csv.DictReader(fh))
        else:
            wb = CalamineWorkbook.from_path(str(path))
            grid = wb.get_sheet_by_index(0).to_python()
            rows = [dict(zip(grid[0], map(str, r), strict=True)) for r in grid[1:]]
        assert len(rows) == f["rows"], f["file"]
        tables.setdefault(f["kind"], []).extend(rows)
    truong = tables["truong"]
    assert {r["Tỉnh/Thành phố"] for r in truong} == {"Thành phố Hà Nội"}
    communes = {r["Xã/Phường"] for r in truong}
    assert len(communes) == 6 and {c.split()[0] for c in communes} == {"Phường", "Xã"}
    codes = [r["Mã trường"] for r in truong]
    assert len(set(codes)) == 150 and len(codes) == info["n_school_rows"] > 150
    assert {"Mầm non", "Tiểu học", "THCS", "THPT", "GDTX"} <= {r["Cấp học"] for r in truong}
    multi = {k for k in codes if codes.count(k) > 1}
    assert len(multi) == info["n_multi_level"] > 0
    staff = tables["cbgvnv"]
    assert len(staff) == info["n_staff_listed"]
    assert len({r["Mã định danh"] for r in staff}) == len(staff)
    assert {r["Mã trường"] for r in staff} <= set(codes)
    assert {r["Cấp học"] for r in staff if r["Mã trường"] in multi} >= {"Tiểu học", "THCS"}
    counts = tables["tonghop_cks"]
    assert len(counts) == info["n_counts_schools"]
    n_act = sum(r["Trạng thái CB"] == "Đang làm việc" for r in staff) + sum(
        int(float(r["Tổng số CBGVNV"])) for r in counts
    )
    assert n_act == info["n_staff_active"]
    assert len(tables["ha_tang"]) == 150
    per_commune = {f["file"] for f in info["files"] if "CSDL_CBGVNV_" in f["file"]}
    assert len(per_commune) == 6 + 1  # one export per commune and the Sở's THPT/GDTX list
    if fmt == "csv":
        again = tmp_path / "again"
        write_province(again, n_communes=6, n_schools=150, n_staff=3000, fmt=fmt)
        for f in info["files"]:
            assert (again / f["file"]).read_bytes() == (tmp_path / f["file"]).read_bytes()


def test_province_cli_refuses_the_project_data(tmp_path, capsys):
    assert main(["--province", str(paths.DATA_DIR / "tinh")]) == 2
    assert "không ghi vào" in capsys.readouterr().err
    assert not (paths.DATA_DIR / "tinh").exists()


# ------------------------------------------------------------------------------------------
# 2026-01-16: signatures only from the providers' lists (issue 15)

PERSONAL_HEADERS = {
    "Số định danh cá nhân",
    "Số CCCD",
    "CCCD/CMND",
    "Họ tên",
    "Họ và tên",
    "Tên thuê bao",
    "Số điện thoại",
    "Email",
    "Ghi chú",
}


def certs() -> dict:
    return reform()["certs"]


def certs_personal_values() -> set[str]:
    """Every personal value of the period's raw files (CCCD, CMND, names, phones, e-mails,
    the free text with its canaries), read back from the files themselves."""
    values: set[str] = set()
    for rel in certs()["files"]:
        wb = CalamineWorkbook.from_path(str(RAW / rel))
        for name in wb.sheet_names:
            rows = wb.get_sheet_by_name(name).to_python()
            head = next(i for i, r in enumerate(rows) if "STT" in r)
            cols = [
                j for j, h in enumerate(rows[head]) if str(h).replace("\n", " ") in PERSONAL_HEADERS
            ]
            for r in rows[head + 1 :]:
                for j in cols:
                    v = r[j]
                    if isinstance(v, float) and v.is_integer():
                        v = int(v)
                    if str(v).strip():
                        values.add(str(v).strip())
    return values


@pytest.fixture(scope="module")
def certs_cleaned(tmp_path_factory) -> Path:
    from analysis.clean import clean_period

    out = tmp_path_factory.mktemp("certs") / "processed"
    clean_period(certs()["period"], RAW, out)
    return out


def test_certs_period_is_the_latest_and_only_from_lists():
    c = certs()
    assert paths.latest_period(RAW) == c["period"] == "2026-01-16"
    names = {f.split("/")[1] for f in c["files"]}
    assert len([f for f in names if f.startswith("CSDL_GiaoVien_")]) == 6
    assert {p.name for p in (RAW / c["period"]).iterdir()} == names
    for rel in c["files"]:
        if not rel.split("/")[1].startswith("CSDL_GiaoVien_"):
            continue
        rows = CalamineWorkbook.from_path(str(RAW / rel)).get_sheet_by_name("CanBo").to_python()
        head = next(r for r in rows if "STT" in r)
        assert not any("Chữ ký" in str(h) or "Nhà cung cấp" in str(h) for h in head), rel
        ids = [r[head.index("Số định danh\ncá nhân")] for r in rows[rows.index(head) + 1 :]]
        # synthetic: 099 + 9 digits (no real province code), one old CMND 099 + 6 digits
        assert all(re.fullmatch(r"099\d{9}|099\d{6}", str(x)) for x in ids), rel


def test_certs_files_reproduce_and_earlier_periods_unchanged(tmp_path):
    generate(tmp_path / "b", DEFAULT_SEED, tmp_path / "b.json")
    for rel in certs()["files"]:
        a = CalamineWorkbook.from_path(str(tmp_path / "b" / rel))
        b = CalamineWorkbook.from_path(str(RAW / rel))
        for name in a.sheet_names:
            assert a.get_sheet_by_name(name).to_python() == b.get_sheet_by_name(name).to_python()
    for rel in planted()["files"] + reform()["files"]:
        assert (tmp_path / "b" / rel).read_bytes() == (RAW / rel).read_bytes(), rel


def test_certs_cleaned_signed_counts_equal_the_planted(certs_cleaned):
    import pandas as pd

    c = certs()
    folder = certs_cleaned / c["period"]
    staff = pd.read_parquet(folder / "staff.parquet")
    assert set(staff["signature_source"]) == {"ca"}
    act = staff[staff["status"].fillna("Đang làm việc") == "Đang làm việc"]
    got = {
        lv: {
            "n_staff": int((act["level"] == lv).sum()),
            "n_signed": int(act.loc[act["level"] == lv, "signed"].sum()),
        }
        for lv in c["expected"]
    }
    assert got == c["expected"]
    by_school = pd.read_parquet(folder / "signature_by_school.parquet")
    assert int(by_school["n_signed"].sum()) == sum(v["n_signed"] for v in c["expected"].values())
    q = json.loads((folder / "quality.json").read_text(encoding="utf-8"))
    cert = q["certificates"]
    assert cert["unmatched_certificate"]["total"] == c["lists"]["n_unmatched"] == 9
    assert cert["certificates_read"] == cert["certificates_kept"] == c["lists"]["n_certificates"]
    assert cert["staff_without_cccd"] == cert["staff_bad_cccd"] == 0
    assert cert["matched"] == c["lists"]["n_certificates"] - 9  # incl. the number and the CMND
    inst = pd.read_parquet(folder / "institution_certificates.parquet")
    assert len(inst) == c["institutions"]["schools"]
    assert int(inst["ready"].sum()) == c["institutions"]["ready"]
    assert not inst.loc[inst["school_code"] == c["institutions"]["expired"], "ready"].any()
    assert not set(c["institutions"]["not_held"]) & set(inst["school_code"])


def _blob(path: Path) -> str:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        t = pq.read_table(path)
        meta = str(t.schema.metadata or {})
        return meta + "\n".join("\x1f".join(map(str, col.to_pylist())) for col in t.columns)
    return path.read_bytes().decode("utf-8", errors="replace")


def test_certs_no_personal_value_leaves_cleaning(certs_cleaned):
    c = certs()
    values = certs_personal_values()
    values |= set(c["canaries"]["names"]) | set(c["canaries"]["phones"])
    cccd = {v for v in values if v.isdigit() and len(v) >= 9}
    assert len(cccd) > 3000 and any(len(v) == 9 for v in cccd) and any(len(v) == 11 for v in cccd)
    school_names = " ".join(s["school_name"] for s in reform()["schools"])
    needles = {v for v in values if len(v) >= 6 and v not in school_names}
    needles |= {v.lstrip("0") for v in cccd}  # nor a CCCD written as a number
    files = [p for p in certs_cleaned.rglob("*") if p.is_file()]
    assert any(p.name == "staff.parquet" for p in files)
    for p in files:
        blob = _blob(p)
        leaked = sorted(v for v in needles if v in blob)
        assert not leaked, (p.relative_to(certs_cleaned), leaked[:5])


def test_certs_no_personal_value_in_the_batch_outputs(tmp_path):
    """The period's batch (notebooks, tables, figures, workbook, report, manifest): no CCCD,
    name, phone or canary either (xlsx/docx: their XML parts)."""
    import os
    import subprocess
    import sys

    c = certs()
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT / "src")}
    out = tmp_path / "out"
    args = ["--period", c["period"], "--raw-dir", str(RAW)]
    args += ["--processed-dir", str(tmp_path / "proc"), "--output-dir", str(out)]
    cmd = [sys.executable, "-m", "analysis", "run", *args]
    subprocess.run(cmd, check=True, env=env, capture_output=True, timeout=600)
    values = certs_personal_values()
    values |= set(c["canaries"]["names"]) | set(c["canaries"]["phones"])
    school_names = " ".join(s["school_name"] for s in reform()["schools"])
    needles = {v for v in values if len(v) >= 6 and v not in school_names}
    needles |= {v.lstrip("0") for v in values if v.isdigit() and len(v) >= 9}
    files = [p for p in (out / c["period"]).rglob("*") if p.is_file()]
    assert any(p.suffix == ".docx" for p in files) and any(p.suffix == ".xlsx" for p in files)
    for p in files:
        if p.suffix in (".xlsx", ".docx"):
            with zipfile.ZipFile(p) as z:
                blob = "".join(
                    z.read(i).decode("utf-8", "replace") for i in z.namelist() if i.endswith(".xml")
                )
        elif p.suffix in (".png", ".pdf"):
            continue
        else:
            blob = _blob(p)
        leaked = sorted(v for v in needles if v in blob)
        assert not leaked, (p.relative_to(out), leaked[:5])
