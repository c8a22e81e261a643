"""What the figures show: bar order and values, labels, reference lines, files on disk."""

from __future__ import annotations

import unicodedata

import matplotlib

matplotlib.use("Agg")  # tests only; the library never picks a backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from processed_fixtures import PERIOD, make_processed  # noqa: E402

from analysis import figures, metrics  # noqa: E402


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return metrics.compute_all(make_processed(), PERIOD)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _all_text(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def _line_x(ax, gid):
    lines = [ln for ln in ax.get_lines() if ln.get_gid() == gid]
    assert len(lines) == 1, gid
    return lines[0].get_xdata()[0]


def test_coverage_by_school_bars_sorted_values_labels_lines(tables):
    table = tables["coverage_by_school"]
    fig = figures.coverage_by_school(table, target=0.9, period=PERIOD)
    th_ax, cs_ax = fig.axes
    assert th_ax.get_title(loc="left").startswith("Tiểu học: 4 trường, trung bình 56,0%")
    assert cs_ax.get_title(loc="left").startswith("THCS: 2 trường")
    widths = [p.get_width() for p in th_ax.patches]
    expected = table[(table["level"] == "Tiểu học") & table["coverage"].notna()]
    assert widths == sorted(expected["coverage"].tolist())  # [0.5, 0.8]
    # Lowest on top: the y axis is inverted and the first bar sits at the top.
    assert th_ax.yaxis_inverted() and th_ax.patches[0].get_y() < th_ax.patches[1].get_y()
    labels = [t.get_text() for t in th_ax.get_yticklabels()]
    assert labels == ["Ái Mộ B", "Ái Mộ A", "Thạch Bàn A", "Thạch Bàn B"]
    assert all(unicodedata.is_normalized("NFC", s) for s in _all_text(fig))
    texts = [t.get_text() for t in th_ax.texts]
    assert "20/40" in texts and "8/10" in texts and "chưa có số liệu" in texts
    assert "0 CBGVNV" in texts
    assert _line_x(th_ax, "average") == pytest.approx(28 / 50)
    assert _line_x(cs_ax, "average") == pytest.approx(32 / 35)
    assert _line_x(th_ax, "target") == pytest.approx(0.9)
    assert fig.get_suptitle() == "Tỷ lệ CBGVNV có chữ ký số cá nhân theo trường"
    assert any("19/4/2024" in t for t in _all_text(fig))


def test_coverage_by_school_many_schools_shows_bottom_and_top():
    n = 300
    cov = np.arange(n) / n
    table = pd.DataFrame(
        {
            "school_code": [f"S{i:03d}" for i in range(n)],
            "school_name": [f"Trường Tiểu học Số {i}" for i in range(n)],
            "level": "Tiểu học",
            "ward": "Bồ Đề",
            "n_staff": pd.array([n] * n, dtype="Int64"),
            "n_signed": pd.array(list(range(n)), dtype="Int64"),
            "n_pending": pd.array([0] * n, dtype="Int64"),
            "coverage": cov[::-1],
            "basis": "counts",
            "rank_in_level": pd.array(list(range(n, 0, -1)), dtype="Int64"),
        }
    )
    fig = figures.coverage_by_school(table, max_bars=20)
    (ax,) = fig.axes
    widths = [p.get_width() for p in ax.patches]
    assert len(widths) == 20
    assert widths[:10] == pytest.approx(cov[:10]) and widths[10:] == pytest.approx(cov[-10:])
    assert "10 trường thấp nhất và 10 trường cao nhất trên 300 trường" in ax.get_title(loc="left")


def test_coverage_by_level_values(tables):
    fig = figures.coverage_by_level(tables["coverage_by_level"], period=PERIOD)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "Mầm non",
        "Tiểu học",
        "THCS",
        "Tổng cộng",
    ]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([28 / 50, 32 / 35, 60 / 85])
    texts = [t.get_text() for t in ax.texts]
    assert "28/50 (56,0%)" in texts and "chưa có số liệu" in texts


def test_coverage_history_lines_and_projection(tables):
    fig = figures.coverage_history(tables["coverage_history"], tables["projection"], period=PERIOD)
    (ax,) = fig.axes
    th = next(ln for ln in ax.get_lines() if ln.get_gid() == "history:Tiểu học")
    assert list(th.get_ydata()) == pytest.approx([0.28, 0.42, 0.56])
    proj = next(ln for ln in ax.get_lines() if ln.get_gid() == "projection:Tiểu học")
    assert proj.get_ydata()[-1] == pytest.approx(1.0)
    notes = [t.get_text() for t in ax.texts]
    assert "Tiểu học: 16/7/2024" in notes  # 0.56 + 0.005/day * 88 days
    two = tables["coverage_history"][tables["coverage_history"]["period"] >= "2024-03-22"]
    fig2 = figures.coverage_history(two, metrics.projection(two), period=PERIOD)
    assert any("Chưa đủ số liệu để dự báo" in t for t in _all_text(fig2))


def test_role_provider_scale_infrastructure_records(tables):
    fig = figures.coverage_by_role(tables["coverage_by_role"])
    (ax,) = fig.axes
    heights = [p.get_height() for p in ax.patches]
    # Bars are drawn role by role (CBQL, GV, NV), level by level.
    role = tables["coverage_by_role"]
    expected = [
        role[(role["role"] == r) & (role["level"] == lv)]["coverage"].iloc[0]
        for r in ("CBQL", "GV", "NV")
        for lv in ("Tiểu học", "THCS", "Tổng cộng")
    ]
    assert heights == pytest.approx(expected)

    fig = figures.coverage_by_provider(tables["coverage_by_provider"])
    (ax,) = fig.axes
    viettel = [p.get_width() for p in ax.patches[:3]]
    assert viettel == pytest.approx([0.75, 0.0, 0.6])

    fig = figures.scale_by_level(tables["scale_by_level"], period=PERIOD)
    pupils = fig.axes[2]
    assert [p.get_height() for p in pupils.patches] == [300, 1900, 1250]
    assert [t.get_text() for t in pupils.texts] == ["300", "1.900", "1.250"]
    assert any("3.450 học sinh" in t for t in _all_text(fig))

    fig = figures.infrastructure_by_school(tables["infrastructure_by_school"], min_speed=70)
    (ax,) = fig.axes
    assert _line_x(ax, "threshold") == 70
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    assert sorted(map(tuple, points.tolist())) == [(50.0, 5.0), (100.0, 10.0)]
    assert "Ái Mộ B" in [t.get_text() for t in ax.texts]

    fig = figures.records_progress(tables["records_by_school"])
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ái Mộ A", "Ái Mộ B"]
    assert [p.get_width() for p in ax.patches] == pytest.approx([0.75, 1.0, 0.5, 1.0])


def test_empty_tables_give_a_message_not_a_crash():
    empty = metrics.compute_scale(
        metrics.Processed(**{k: metrics._empty_kind(k) for k in metrics.PROCESSED_KINDS})
    )
    fig = figures.records_progress(empty["records_by_school"])
    assert "Chưa có số liệu ký số học bạ trong kỳ này" in _all_text(fig)
    fig = figures.infrastructure_by_school(empty["infrastructure_by_school"])
    assert "Chưa có số liệu hạ tầng CNTT trong kỳ này" in _all_text(fig)


def test_make_all_writes_identical_files_and_marks_sample(tables, tmp_path):
    first = figures.make_all(tables, PERIOD, tmp_path / "a", sample=True)
    assert sorted(first) == sorted(figures.FIGURES)
    # Rendering is slow on small machines: compare a rerun of two figures (bars, lines, band).
    again = ["coverage_by_school", "coverage_history"]
    figures.make_all(tables, PERIOD, tmp_path / "b", sample=True, names=again)
    for name in again:
        for suffix in (".png", ".svg"):
            a = (tmp_path / "a" / f"{name}{suffix}").read_bytes()
            assert a == (tmp_path / "b" / f"{name}{suffix}").read_bytes(), name + suffix
    fig = figures.render("scale_by_level", tables, PERIOD, sample=True)
    assert "Dữ liệu mẫu" in [t.get_text() for t in fig.texts]
    assert not plt.get_fignums() or plt.get_fignums() == [fig.number]
