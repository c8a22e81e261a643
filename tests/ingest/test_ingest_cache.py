"""The speed-ups of the cleaning stage keep its results: read cache, header-match cache,
total-label prefilter."""

from __future__ import annotations

import os

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import ingest
from analysis.core import parse
from analysis.core.legacy import encode_tcvn3, encode_vni
from analysis.ingest import cells as ingest_cells
from analysis.ingest import contract as kinds
from analysis.ingest import rows as ingest_rows

HEADER = "Mã trường,Tên trường,Cấp học,Số lớp,Số học sinh\n"


def _write_csv(path, rows):
    path.write_text(HEADER + "".join(",".join(map(str, r)) + "\n" for r in rows), "utf-8")


def test_read_cache_follows_file_content_and_hands_out_copies(tmp_path):
    folder = tmp_path / "2024-04-19"
    folder.mkdir()
    path = folder / "truong.csv"
    _write_csv(path, [("01020301", "TH Ái Mộ A", "TH", 20, 700)])
    stat = path.stat()
    first = ingest.read_file(path, tmp_path)[0]
    assert first.data["n_pupils"].tolist() == ["700"]
    # A caller changing its table does not change what the next caller gets.
    first.data["n_pupils"] = "0"
    first.repairs["nfd"] = 99
    again = ingest.read_file(path, tmp_path)[0]
    assert again.data["n_pupils"].tolist() == ["700"]
    assert again.repairs["nfd"] == 0
    # Same size, same modification time, other content: read again (keyed by content).
    _write_csv(path, [("01020301", "TH Ái Mộ A", "TH", 20, 701)])
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    changed = ingest.read_file(path, tmp_path)[0]
    assert changed.data["n_pupils"].tolist() == ["701"]
    # read_folder with kinds: only those kinds are returned.
    assert ingest.read_folder(folder, tmp_path, kinds=("cbgvnv",)) == []
    assert [t.kind for t in ingest.read_folder(folder, tmp_path)] == ["truong"]


def test_match_kinds_results_are_fresh_objects():
    cells = ["Mã trường", "Tên trường", "Cấp học", "Số lớp", "Số học sinh"]
    a = kinds.match_kinds(cells)
    a[0].mapping[99] = "x"
    b = kinds.match_kinds(list(cells))
    assert 99 not in b[0].mapping
    best = kinds.best_match(cells)
    assert best.kind == "truong" and best.complete
    best.mapping.clear()
    assert kinds.best_match(cells).mapping == {
        0: "school_code",
        1: "school_name",
        2: "level",
        3: "n_classes",
        4: "n_pupils",
    }


# Values that reach the total-label check: total labels in many spellings, and near misses.
_WORDS = ["Tổng", "cộng", "Cộng", "TỔNG", "CỘNG", "số", "toàn", "quận", "Mầm", "non", "THCS"]
_JUNK = ["", " ", "-", "*", ":", "\u00a0", "\u200b", "_x000D_", "1.", "I", "(", "Ť", "đ", "Lê"]


@st.composite
def _labels(draw):
    words = draw(st.lists(st.sampled_from(_WORDS + _JUNK), min_size=1, max_size=5))
    text = " ".join(words)
    enc = draw(st.sampled_from([None, "tcvn3", "vni", "nfd"]))
    if enc == "tcvn3":
        text = encode_tcvn3(text)
    elif enc == "vni":
        text = encode_vni(text)
    elif enc == "nfd":
        import unicodedata

        text = unicodedata.normalize("NFD", text)
    return text, (enc if enc in ("tcvn3", "vni") else None)


@settings(max_examples=400, deadline=None)
@given(_labels(), st.text(max_size=12))
def test_total_prefilter_never_drops_a_total_label(label, noise):
    text, enc = label
    for value in (text, noise, text + noise, noise + text):
        is_total = parse.is_total_label(ingest_cells._repair_cells([value], enc)[0])
        if is_total:
            assert ingest_rows._may_be_total(pd.Series([value], dtype="str"))[0], value
