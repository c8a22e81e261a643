"""match.match_schools: code, name, alias, ASCII key, fuzzy suggestions; near-twin safety."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.clean import match

SCHOOLS = pd.DataFrame(
    [
        ("01020301", "Trường Tiểu học Thạch Bàn A", "Tiểu học"),
        ("01020302", "Trường Tiểu học Thạch Bàn B", "Tiểu học"),
        ("01020303", "Trường Tiểu học Ái Mộ A", "Tiểu học"),
        ("01020304", "Trường Tiểu học Ái Mộ B", "Tiểu học"),
        ("01020305", "Trường Tiểu học Ngọc Lâm", "Tiểu học"),
        ("01030305", "Trường THCS Ngọc Lâm", "THCS"),
        ("01030306", "Trường THCS Gia Thụy", "THCS"),
        ("01010101", "Trường Mầm non Hoa Sữa", "Mầm non"),
        ("01020307", "Trường Tiểu học Thượng Thanh", "Tiểu học"),
    ],
    columns=["school_code", "school_name", "level"],
).astype("str")

ALIASES = pd.DataFrame(
    {
        "alias": ["Trường Tiểu học Gia Quất"],
        "school_code": ["1020307"],  # leading zero lost: still applied
        "note": ["tên cũ"],
    }
).astype("str")


def run(names=None, codes=None, groups=None, aliases=ALIASES):
    n = pd.Series(names, dtype="object") if names is not None else None
    c = pd.Series(codes, dtype="object") if codes is not None else None
    g = pd.Series(groups, dtype="str") if groups is not None else None
    return match.match_schools(n, c, SCHOOLS, aliases, groups=g)


def test_exact_code_with_lost_leading_zero_and_numeric_cell():
    r = run(codes=["01020301", 1020302, 1020303.0, "  01030306 "])
    assert r.school_code.tolist() == ["01020301", "01020302", "01020303", "01030306"]
    assert r.method.tolist() == ["code"] * 4
    assert r.reason.isna().all()


def test_names_with_prefixes_case_spaces_and_tone_placement():
    names = [
        "Trường Tiểu học Ái Mộ A",
        "TH Ái Mộ A",
        "TRƯỜNG TH ÁI MỘ B",
        "Tiểu  học\u00a0Ái Mộ B",
        "THCS Gia Thuỵ",  # old tone placement
    ]
    r = run(names=names)
    assert r.school_code.tolist() == ["01020303", "01020303", "01020304", "01020304", "01030306"]
    assert set(r.method) == {"name"}


def test_code_wins_over_name_and_bad_code_falls_back_to_name():
    r = run(names=["TH Ái Mộ A", "TH Ái Mộ B"], codes=["01020304", "??"])
    assert r.school_code.tolist() == ["01020304", "01020304"]
    assert r.method.tolist() == ["code", "name"]


def test_near_twins_never_merged_by_any_step():
    names = ["Thạch Bàn", "Thach Ban", "TH Thạch Bàn", "Ái Mộ", "Thach Ban A", "Ai Mo B"]
    r = run(names=names)
    # None of them is applied: a bare base name or an ASCII twin is only a suggestion.
    assert r.school_code.isna().all(), r.school_code.tolist()
    assert set(r.reason) <= {"fuzzy_school", "unmatched_school"}
    msg = r.message.iloc[0]
    # Both twins are offered for a person to choose.
    assert "Thạch Bàn A" in msg and "Thạch Bàn B" in msg
    assert "school_aliases.csv" in msg
    # The exact twins match themselves only.
    r2 = run(names=["TH Thạch Bàn A", "TH Thạch Bàn B", "Ái Mộ A", "Ái Mộ B"])
    assert r2.school_code.tolist() == ["01020301", "01020302", "01020303", "01020304"]


def test_ascii_key_applies_only_when_unique_and_not_a_twin():
    r = run(names=["Truong Tieu hoc Thuong Thanh", "Hoa Sua", "Gia Thuy"])
    assert r.school_code.tolist() == ["01020307", "01010101", "01030306"]
    assert r.method.tolist() == ["ascii"] * 3


def test_ambiguous_name_uses_prefix_then_file_then_refuses():
    r = run(names=["THCS Ngọc Lâm", "Tiểu học Ngọc Lâm"])
    assert r.school_code.tolist() == ["01030305", "01020305"]
    # A bare "Ngọc Lâm": from the other rows of the same file (all THCS) ...
    r = run(
        names=["Ngọc Lâm", "THCS Gia Thụy", "Ngọc Lâm", "TH Ái Mộ A"],
        groups=["f1", "f1", "f2", "f2"],
    )
    assert r.school_code.tolist() == ["01030305", "01030306", "01020305", "01020303"]
    # ... and refused when nothing tells the level.
    r = run(names=["Ngọc Lâm", "THCS Gia Thụy", "TH Ái Mộ A"], groups=["f", "f", "f"])
    assert pd.isna(r.school_code.iloc[0])
    assert r.reason.iloc[0] == "ambiguous_school"
    assert "01020305" in r.message.iloc[0] and "01030305" in r.message.iloc[0]


def test_alias_table_applied_by_school_key():
    r = run(names=["TH Gia Quất", "Trường Tiểu học Gia Quất"])
    assert r.school_code.tolist() == ["01020307", "01020307"]
    assert r.method.tolist() == ["alias", "alias"]
    r = run(names=["TH Gia Quất"], aliases=None)
    assert r.school_code.isna().all()


def test_fuzzy_is_suggested_never_applied_and_unmatched_has_no_candidates():
    r = run(
        names=["Trường Tiểu học Ngọc Lâmm", "Trường THCS Khương Đình", None],
        codes=[None, None, None],
    )
    assert r.school_code.isna().all()
    assert r.reason.tolist() == ["fuzzy_school", "unmatched_school", "missing_school"]
    assert "Gợi ý" in r.message.iloc[0] and "01020305" in r.message.iloc[0]
    assert r.value.iloc[0] == "Trường Tiểu học Ngọc Lâmm"
    u = r.unmatched.set_index("school_name_raw")
    # The candidate at the level named by the prefix comes first.
    assert u.loc["Trường Tiểu học Ngọc Lâmm", "candidate_codes"].split(";")[0] == "01020305"
    assert u.loc["Trường THCS Khương Đình", "candidates"] == ""


def test_unmatched_table_counts_rows_per_unique_name():
    r = run(names=["XYZ lạ", "XYZ lạ", "TH Ái Mộ A", "XYZ lạ"])
    assert r.unmatched["n_rows"].tolist() == [3]
    assert r.matched.tolist() == [False, False, True, False]


def test_works_per_unique_value_on_many_rows():
    names = pd.Series(["TH Ái Mộ A", "Thạch Bàn"] * 50_000)
    r = match.match_schools(names, None, SCHOOLS, ALIASES)
    assert (r.school_code == "01020303").sum() == 50_000
    assert (r.reason == "fuzzy_school").sum() == 50_000


def test_read_aliases(tmp_path):
    p = tmp_path / "school_aliases.csv"
    p.write_text("alias,school_code,note\nTH Vinschool,01020307,viết tắt\n", encoding="utf-8-sig")
    al = match.read_aliases(p)
    assert al.to_dict("records") == [
        {"alias": "TH Vinschool", "school_code": "01020307", "note": "viết tắt"}
    ]
    assert match.read_aliases(tmp_path / "none.csv").empty
    bad = tmp_path / "bad.csv"
    bad.write_text("ten,ma\n", encoding="utf-8")
    with pytest.raises(ValueError, match="alias,school_code,note"):
        match.read_aliases(bad)


def test_twin_base():
    assert match.twin_base("thạch bàn a") == "thạch bàn"
    assert match.twin_base("ngọc thụy 2") == "ngọc thụy"
    assert match.twin_base("gia thụy") is None


def _codes(r) -> list:
    return [c if isinstance(c, str) else None for c in r.school_code]


def test_a_level_word_binds_the_match():
    # Hoa Sữa exists only as a preschool: a name stating another level never lands there.
    names = ["TH Hoa Sữa", "Trường THCS Hoa Sữa", "THPT Hoa Sữa", "Trung tâm GDTX Hoa Sữa"]
    r = run(names=[*names, "MN Hoa Sữa", "Mẫu giáo Hoa Sữa", "Hoa Sữa", "Hoa Sua"])
    assert _codes(r)[:4] == [None] * 4
    assert _codes(r)[4:] == ["01010101"] * 4
    assert r.reason.tolist()[:4] == ["unmatched_school"] * 4
    for msg, level in zip(r.message[:4], ["Tiểu học", "THCS", "THPT", "GDTX"], strict=True):
        assert f"ghi cấp {level}" in msg
        assert "Trường Mầm non Hoa Sữa (Mầm non, 01010101)" in msg
    # The same without diacritics (the ASCII step binds too).
    r = run(names=["Truong Tieu hoc Hoa Sua"])
    assert r.reason.tolist() == ["unmatched_school"]


def test_a_multi_level_name_binds_to_its_levels():
    r = run(names=["Trường TH&THCS Ngọc Lâm", "TH&THCS Hoa Sữa"])
    assert r.school_code.isna().all()
    assert r.reason.tolist() == ["ambiguous_school", "unmatched_school"]
    u = r.unmatched.set_index("school_name_raw")
    assert u.loc["Trường TH&THCS Ngọc Lâm", "candidate_codes"] == "01020305;01030305"
    assert "ghi cấp Tiểu học / THCS" in r.message.iloc[1]


def test_ambiguous_message_lists_exactly_the_namesakes_with_level_and_code():
    r = run(names=["Ngọc Lâm", "THCS Gia Thụy", "TH Ái Mộ A"], groups=["f", "f", "f"])
    u = r.unmatched.set_index("school_name_raw")
    assert u.loc["Ngọc Lâm", "candidate_codes"] == "01020305;01030305"
    assert u.loc["Ngọc Lâm", "candidates"] == (
        "Trường Tiểu học Ngọc Lâm (Tiểu học, 01020305); Trường THCS Ngọc Lâm (THCS, 01030305)"
    )


def test_alias_respects_the_stated_level():
    aliases = pd.DataFrame(
        {
            "alias": ["Trường Tiểu học Gia Quất", "Mầm non Cũ"],
            "school_code": ["01020307", "01010101"],
            "note": ["", ""],
        }
    )
    r = run(
        names=["TH Gia Quất", "Gia Quất", "THCS Gia Quất", "Mầm non Cũ", "TH Cũ"], aliases=aliases
    )
    assert _codes(r) == ["01020307", "01020307", None, "01010101", None]
    assert r.method.tolist()[:2] == ["alias", "alias"]


def test_codes_resolve_to_the_list_code_they_pad_to_only():
    r = run(codes=[1020301, "1020301", "001020301", "1", 1030306.0])
    assert _codes(r) == ["01020301", "01020301", None, None, "01030306"]
    # The list's codes are not padded by matching: a code list with another width still works.
    r = run(codes=["0001020301"])
    assert r.school_code.isna().all()
