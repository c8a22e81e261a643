"""The notebooks' tables as an analyst reads them: Vietnamese formats, no index, no raw NaN,
the lowest coverage first, a sentence instead of an empty table."""

from __future__ import annotations

from datetime import date

import pandas as pd

from analysis import display, metrics


def test_cells_are_written_the_vietnamese_way():
    df = pd.DataFrame(
        {
            "school_code": ["B", "A", "C"],
            "school_name": ["Trường Tiểu học Bồ Đề", "Trường Tiểu học Ái Mộ", "Trường THCS X"],
            "level": ["Tiểu học", "Tiểu học", "THCS"],
            "n_staff": pd.array([1799, 52, pd.NA], dtype="Int64"),
            "coverage": [0.946, 0.5, float("nan")],
            "delta_coverage": [0.032, -0.015, float("nan")],
            "prev_period": ["2024-04-19", "2024-04-19", None],
            "speed_mbps": [12.5, 70.0, float("nan")],
            "basis": ["list", "counts", None],
            "below_threshold": [True, False, False],
        }
    )
    table = display.show(df)
    frame = table.frame
    assert list(frame.columns[:5]) == [
        "Mã trường", "Tên trường", "Cấp học", "Tổng số CBGVNV", "Tỷ lệ có chữ ký số",
    ]  # fmt: skip
    # the lowest coverage first within the level order; no data last
    assert frame["Mã trường"].tolist() == ["A", "B", "C"]
    assert frame.iloc[1].tolist() == [
        "B", "Trường Tiểu học Bồ Đề", "Tiểu học", "1.799", "94,6%", "+3,2 điểm", "19/4/2024",
        "12,5", "Danh sách", "Có",
    ]  # fmt: skip
    assert frame.iloc[0]["Thay đổi tỷ lệ"] == "−1,5 điểm"
    assert frame.iloc[2].tolist()[3:8] == ["–"] * 5  # no NaN, no <NA>, no None
    text = repr(table)
    assert "NaN" not in text and "nan" not in text and "2024-04-19" not in text
    assert not text.splitlines()[1].startswith("0")  # no pandas index
    html = table._repr_html_()
    assert "<th>Mã trường</th>" in html and "dataframe" not in html and "<th></th>" not in html
    assert "0x" not in repr(table) + html  # no object address: same bytes on a rerun


def test_empty_none_and_missing_tables_are_a_sentence():
    empty = pd.DataFrame(columns=["school_code", "coverage"])
    note = display.show(empty, "Chứng thư sắp hết hạn")
    assert note._repr_markdown_() == "Không có dữ liệu: Chứng thư sắp hết hạn."
    assert "Empty DataFrame" not in repr(note)
    assert display.show(None)._repr_markdown_() == "Không có dữ liệu."
    one = display.show_table({}, "coverage_by_district")
    assert "một quận/huyện" in one._repr_markdown_()


def test_headline_dict_is_a_table_of_labels_and_values():
    table = display.show(
        {
            "coverage_th": 0.698,
            "signed_th": 1248,
            "date_100_th": "2024-07-02",
            "sample": True,
            "period": "2024-04-19",
            "infra_n_fibre": 246,
        }  # fmt: skip
    )
    rows = dict(table.frame.itertuples(index=False))
    assert rows == {
        "Tỷ lệ có chữ ký số, Tiểu học": "69,8%",
        "Số đã có chữ ký số, Tiểu học": "1.248",
        "Dự kiến đạt 100%, Tiểu học": "2/7/2024",
        "Dữ liệu mẫu": "Có",
        "Kỳ báo cáo": "19/4/2024",
        "Số đường truyền cáp quang": "246",
    }


def test_limit_says_how_many_rows_are_left_out_and_dates():
    df = pd.DataFrame({"n_staff": range(12)})
    table = display.show(df, "Bảng", limit=10)
    assert len(table) == 10 and table.caption == "Bảng (10 dòng đầu; còn 2 dòng)"
    assert display.fmt_day(date(2024, 6, 24)) == "24/6/2024"
    assert display.period_note("2024-04-19") == "Kỳ báo cáo: số liệu đến ngày 19/4/2024"
    assert metrics.Note  # the sentence type notebooks already show as Markdown
