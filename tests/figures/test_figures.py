"""What the figures show: bar order and values, labels, reference lines, files on disk."""

from __future__ import annotations

import unicodedata

import matplotlib

matplotlib.use("Agg")  # tests only; the library never picks a backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis import figures, metrics
from analysis.core import schemas  # noqa: E402
from analysis.figures import style  # noqa: E402
from tests.processed_fixtures import (  # noqa: E402
    PERIOD,
    make_multi_district,
    make_processed,
    metric_tables,
)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return metric_tables(make_processed())


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


def _bbox_data(ax, text):
    """A text's box in the axes' data coordinates (x) after drawing."""
    renderer = ax.figure.canvas.get_renderer()
    box = text.get_window_extent(renderer)
    return ax.transData.inverted().transform(box)


def test_coverage_by_school_labels_are_never_crossed_by_the_lines(tables):
    table = tables["coverage_by_school"]
    for target in (1.0, 0.9):
        fig = figures.coverage_by_school(table, target=target, period=PERIOD)
        fig.canvas.draw()
        for ax in fig.axes:
            counts = [t for t in ax.texts if t.get_gid() == "count"]
            assert counts
            lines = [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_gid()
                     in ("average", "target")]  # fmt: skip
            bars = [p.get_width() for p in ax.patches]
            for text in counts:
                (x0, _), (x1, _) = _bbox_data(ax, text)
                assert all(not (x0 <= x <= x1) for x in lines), (text.get_text(), lines)
                assert x0 > max(bars)  # and never on a bar
            assert max(ax.get_xticks()) == pytest.approx(max(1.0, target))  # no 120% tick


def test_coverage_by_school_prints_at_the_text_width_with_readable_labels(tmp_path):
    """60 schools (the sample's 33 + 27) fit the page at the text width: the report does not
    shrink the figure, so its 7 pt labels print at 7 pt."""
    from analysis.report import docx as report_docx

    rows = []
    for level, n in (("Tiểu học", 33), ("THCS", 27)):
        for i in range(n):
            rows.append((f"{level[:2]}{i:02d}", f"Trường {level} Số {i}", level, 50, i + 10))
    table = pd.DataFrame(rows, columns=["school_code", "school_name", "level", "n_staff",
                                        "n_signed"])  # fmt: skip
    table = table.assign(
        ward="Bồ Đề", n_pending=0, coverage=table["n_signed"] / table["n_staff"], basis="list",
        rank_in_level=1,
    )  # fmt: skip
    fig = figures.coverage_by_school(table, period=PERIOD)
    saved = style_save(fig, tmp_path / "cbs")
    size = report_docx.figure_size(saved.png)
    width, height = report_docx.png_size(saved.png)
    printed_mm = size["width"].mm if "width" in size else size["height"].mm * width / height
    assert printed_mm >= 160  # the text width is 165 mm
    scale = printed_mm / 160  # figures are drawn 16 cm wide
    label_pt = min(t.get_fontsize() for ax in saved.figure.axes for t in ax.texts)
    assert label_pt * scale >= 6.9
    assert min(t.get_fontsize() for t in saved.figure.axes[0].get_yticklabels()) * scale >= 6.9


def style_save(fig, path):
    from analysis.figures import style

    return style.save(fig, path)


def test_figures_without_data_are_not_saved(tmp_path):
    empty = metrics.compute_scale(metrics.Processed(**{k: schemas.empty(k) for k in schemas.FILES}))
    (tmp_path / "records_progress.png").write_bytes(b"stale")
    shown = figures.publish("records_progress", empty, tmp_path, PERIOD)
    assert isinstance(shown, figures.NoData)
    assert shown._repr_markdown_().startswith("Tiến độ ký số học bạ theo trường: chưa có")
    assert not list(tmp_path.glob("records_progress.*"))  # the stale copy is gone too
    made = figures.make_all(empty, PERIOD, tmp_path, sample=False, names=["records_progress"])
    assert made == {}


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
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Tiểu học: 100% khoảng 16/7/2024" in legend  # 0.56 + 0.005/day * 88 days
    assert not [t for t in ax.texts if "16/7/2024" in t.get_text()]  # no label to overlap
    assert ax.get_ylim()[1] <= 1.05 and max(ax.get_yticks()) == pytest.approx(1.0)
    deadline = next(ln for ln in ax.get_lines() if ln.get_gid() == "deadline")
    assert str(deadline.get_xdata()[0]) == "2024-06-30"
    assert "hạn 30/6/2024" in [t.get_text().strip() for t in ax.texts]
    assert not any("sai số chuẩn" in t for t in _all_text(fig))  # plain words
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

    table = tables["infrastructure_by_school"]
    fig = figures.infrastructure_by_school(table, min_speed=70)
    left, right = fig.axes
    drawn = {  # tier label -> schools drawn (bar widths summed over the levels)
        t.get_text(): 0.0 for t in left.get_yticklabels()
    }
    for patch in left.patches:
        y = patch.get_y() + patch.get_height() / 2
        label = min(left.get_yticklabels(), key=lambda t: abs(t.get_position()[1] - y))
        drawn[label.get_text()] += patch.get_width()
    assert drawn == {"Không có cáp quang": 1.0, "30–<70 Mbps": 1.0, "100–<200 Mbps": 1.0}
    red = [t.get_text() for t in left.get_yticklabels() if t.get_color() == style.TARGET_COLOR]
    assert red == ["Không có cáp quang", "30–<70 Mbps"]  # under the 70 Mbps threshold: marked
    th = table[table["level"] == "Tiểu học"]
    expected = [th["n_computers"].sum() / th["n_pupils"].sum() * 100, 0.0]  # THCS: none known
    assert [p.get_height() for p in right.patches] == pytest.approx(expected)
    assert right.texts[-1].get_text() == "–"  # not "0,0": no THCS school reported computers

    fig = figures.records_progress(tables["records_by_school"])
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ái Mộ A", "Ái Mộ B"]
    assert [p.get_width() for p in ax.patches] == pytest.approx([0.75, 1.0, 0.5, 1.0])


def test_empty_tables_give_a_message_not_a_crash():
    empty = metrics.compute_scale(metrics.Processed(**{k: schemas.empty(k) for k in schemas.FILES}))
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


# --------------------------------------------------------------------------- many districts


def _district_table(n: int) -> pd.DataFrame:
    """``n`` synthetic districts, district k: n staff, k signed (k = 0..n-1), shuffled."""
    order = np.random.default_rng(7).permutation(n)
    table = pd.DataFrame(
        {
            "district": [f"Huyện Số {k:03d}" for k in order],
            "n_schools": pd.array([5] * n, dtype="Int64"),
            "n_schools_reporting": pd.array([5] * n, dtype="Int64"),
            "n_staff": pd.array([n] * n, dtype="Int64"),
            "n_signed": pd.array(order.tolist(), dtype="Int64"),
            "coverage": order / n,
        }
    )
    total = {"district": "Tổng cộng", "n_schools": 5 * n, "n_schools_reporting": 5 * n}
    total |= {"n_staff": n * n, "n_signed": int(order.sum()), "coverage": order.sum() / n / n}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def test_coverage_by_district_bars_by_hand():
    tables = metrics.compute_coverage(make_multi_district(), PERIOD)
    fig = figures.coverage_by_district(tables["coverage_by_district"], period=PERIOD)
    (ax,) = fig.axes  # three districts: bars only, no distribution panel
    assert [p.get_width() for p in ax.patches] == pytest.approx([0.4, 5 / 7, 0.8])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Quận Hoàn Kiếm", "Huyện Gia Lâm", "Quận Long Biên"]  # lowest on top
    assert ax.yaxis_inverted()
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["2/5", "50/70", "8/10"]
    assert _line_x(ax, "average") == pytest.approx(60 / 85)
    assert _line_x(ax, "target") == pytest.approx(1.0)
    assert ax.get_title(loc="left") == "3 quận/huyện, chung 70,6%"
    assert fig.get_suptitle() == "Tỷ lệ CBGVNV có chữ ký số cá nhân theo quận/huyện"


def test_coverage_by_district_many_shows_bottom_top_and_distribution():
    table = _district_table(200)
    fig = figures.coverage_by_district(table, max_bars=20)
    ax, hist = fig.axes
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([k / 200 for k in (*range(10), *range(190, 200))])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Huyện Số 000" and labels[19] == "Huyện Số 199"
    assert labels[-1] == "… 180 quận/huyện khác …"
    assert "200 quận/huyện" in ax.get_title(loc="left")
    assert "hiển thị 10 thấp nhất và 10 cao nhất" in ax.get_title(loc="left")
    # every district is in the histogram: 40 bins, counts add up to 200
    assert len(hist.patches) == 40
    assert sum(p.get_height() for p in hist.patches) == 200
    assert "Phân bố tỷ lệ của cả 200 quận/huyện" == hist.get_title(loc="left")


def test_district_figure_only_with_its_table(tmp_path):
    many = metric_tables(make_multi_district())
    one = metric_tables(make_processed())
    out = tmp_path / "figures"
    written = figures.make_all(many, PERIOD, out, sample=False, names=["coverage_by_district"])
    assert written == {"coverage_by_district": out / "coverage_by_district.png"}
    assert (out / "coverage_by_district.svg").is_file()
    # a one-district run: nothing drawn, the stale files of the earlier run removed
    assert figures.publish("coverage_by_district", one, out, PERIOD) is None
    assert not (out / "coverage_by_district.png").exists()
    assert not (out / "coverage_by_district.svg").exists()
    assert "coverage_by_district" not in figures.FIGURES  # the figures of every run
    with pytest.raises(KeyError):  # a figure every run has still needs its table
        figures.publish("coverage_by_level", {}, out, PERIOD)


def _school_table(n: int, n_missing: int = 0) -> pd.DataFrame:
    """``n`` primary schools with coverage k/n (k = 0..n-1, shuffled) and ``n_missing``
    schools without data."""
    order = np.random.default_rng(3).permutation(n)
    table = pd.DataFrame(
        {
            "school_code": [f"S{k:04d}" for k in order],
            "school_name": [f"Trường Tiểu học Số {k}" for k in order],
            "level": "Tiểu học",
            "ward": "Bồ Đề",
            "n_staff": pd.array([n] * n, dtype="Int64"),
            "n_signed": pd.array(order.tolist(), dtype="Int64"),
            "n_pending": pd.array([0] * n, dtype="Int64"),
            "coverage": order / n,
            "basis": "counts",
            "rank_in_level": pd.array((order + 1).tolist(), dtype="Int64"),
        }
    )
    missing = pd.DataFrame(
        {
            "school_code": [f"M{k:03d}" for k in range(n_missing)],
            "school_name": [f"Trường Tiểu học Mới {k}" for k in range(n_missing)],
            "level": "Tiểu học",
            "ward": "Bồ Đề",
        }
    )
    return pd.concat([table, missing], ignore_index=True)


def test_coverage_by_school_200_schools_bottom_top_gap_and_counted_missing():
    table = _school_table(200, n_missing=12)
    fig = figures.coverage_by_school(table)  # default max_bars = 40
    (ax,) = fig.axes
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([k / 200 for k in (*range(20), *range(180, 200))])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[:2] == ["Số 0", "Số 1"] and labels[39] == "Số 199"
    assert labels[40:] == ["… 160 trường khác …"]  # schools without data: counted, not listed
    title = ax.get_title(loc="left")
    assert title.startswith("Tiểu học: 212 trường")
    assert "20 trường thấp nhất và 20 trường cao nhất trên 200 trường" in title
    assert "12 trường chưa có số liệu" in title
    assert "chưa có số liệu" not in [t.get_text() for t in ax.texts]
    # a few schools without data are still listed one by one
    few = figures.coverage_by_school(_school_table(200, n_missing=3))
    assert [t.get_text() for t in few.axes[0].texts].count("chưa có số liệu") == 3


def _infra_table(n: int, n_slow: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    speed = np.where(
        np.arange(n) < n_slow, 10.0 + np.arange(n) % 50, 100.0 + rng.integers(0, 200, n)
    )
    return pd.DataFrame(
        {
            "school_code": [f"S{k:05d}" for k in range(n)],
            "school_name": [f"Trường THCS Số {k}" for k in range(n)],
            "level": np.where(np.arange(n) % 2, "THCS", "Tiểu học"),
            "n_fibre": pd.array([1] * n, dtype="Int64"),
            "speed_mbps": speed,
            "n_computers": pd.array(rng.integers(1, 30, n).tolist(), dtype="Int64"),
            "n_pupils": pd.array([500] * n, dtype="Int64"),
            "computers_per_100_pupils": 1.0,
            "below_threshold": speed < 70,
        }
    )


def test_infrastructure_is_bars_per_speed_tier_at_any_size():
    """Speeds come in tiers: schools are counted per tier (every school once), never drawn as
    markers piled on the same points; computers per 100 pupils per level."""
    table = _infra_table(3000, n_slow=400)
    table.loc[:9, "n_fibre"] = 0  # ten schools without fibre
    table.loc[10:14, "speed_mbps"] = np.nan  # five with no speed reported
    fig = figures.infrastructure_by_school(table, min_speed=70)
    left, right = fig.axes
    assert not left.collections and not right.collections  # no scatter, no hexbin
    assert sum(p.get_width() for p in left.patches) == 3000  # every school in one tier
    tiers = metrics.speed_tiers(table, 70)
    assert tiers.groupby("tier")["n_schools"].sum().to_dict() == {
        "Không có cáp quang": 10,
        "Chưa báo tốc độ": 5,
        "< 30": 20 * 8 - 10 - 5,  # speeds 10..59 cycle: 20 of every 50 under 30
        "30–<70": 400 - (20 * 8),
        "70–<100": 0,
        "100–<200": int(((table["speed_mbps"] >= 100) & (table["speed_mbps"] < 200)).sum()),
        "≥ 200": int((table["speed_mbps"] >= 200).sum()),
    }
    labels = [t.get_text() for t in left.get_yticklabels()]
    assert labels[0] == "Không có cáp quang" and labels[-1] == "Chưa báo tốc độ"
    assert "70–<100 Mbps" not in labels  # an empty tier is not drawn
    by_level = table.groupby("level")[["n_computers", "n_pupils"]].sum()
    rate = (by_level["n_computers"] / by_level["n_pupils"] * 100)[["Tiểu học", "THCS"]]
    assert [p.get_height() for p in right.patches] == pytest.approx(rate.tolist())
    notes = [" ".join(t.split()) for t in _all_text(fig)]
    assert any("3.000 trường báo số liệu" in t and "400 trường dưới ngưỡng" in t for t in notes)


def test_scale_by_level_in_millions_at_national_scale():
    table = pd.DataFrame(
        {
            "level": ["Mầm non", "Tiểu học", "THCS", "Tổng cộng"],
            "n_schools": [24336, 16176, 13560, 54072],
            "n_classes": [316347, 404290, 291580, 1012217],
            "n_pupils": [7270804, 14557239, 11653571, 33481614],
        }
    )
    fig = figures.scale_by_level(table)
    pupils = fig.axes[2]
    assert pupils.get_title() == "Số học sinh (triệu)"
    assert [t.get_text() for t in pupils.texts] == ["7.270.804", "14.557.239", "11.653.571"]
    fig.canvas.draw()
    ticks = [t.get_text() for t in pupils.get_yticklabels()]
    assert "10" in ticks and "2,5" in ticks and "10.000.000" not in ticks
    assert fig.axes[1].get_title() == "Số lớp"  # under a million: as before


def _history_table() -> pd.DataFrame:
    rows = []
    series = {  # school: (level, signed per period of 50 staff)
        "A": ("Tiểu học", [10, 20, 30]),
        "B": ("Tiểu học", [5, 5, 5]),  # stalled at 10%
        "C": ("Tiểu học", [40, 45, 50]),  # finished: not stalled
        "D": ("THCS", [1, 2, 25]),
    }
    for code, (level, signed) in series.items():
        for period, n in zip(["2024-02-23", "2024-03-22", "2024-04-19"], signed, strict=True):
            rows.append((period, code, f"Trường {level} {code}", level, 50, n))
    df = pd.DataFrame(rows, columns=["period", "school_code", "school_name", "level",
                                     "n_staff", "n_signed"])  # fmt: skip
    return df.assign(coverage=df["n_signed"] / df["n_staff"])


def test_coverage_heatmap_shows_the_matrix_lowest_first_and_names_stalled_schools():
    table = _history_table()
    fig = figures.coverage_heatmap(table, period=PERIOD)
    th_ax, cs_ax = fig.axes[:2]
    mesh = th_ax.collections[0]
    shown = np.asarray(mesh.get_array()).reshape(3, 3)  # what is drawn, cell by cell
    # rows: the lowest coverage on 19/4 first (B 10%, A 60%, C 100%); columns: periods
    expected = [[0.1, 0.1, 0.1], [0.2, 0.4, 0.6], [0.8, 0.9, 1.0]]
    np.testing.assert_allclose(shown, expected)
    labels = [t.get_text() for t in th_ax.get_yticklabels()]
    assert labels == ["B (đứng yên)", "A", "C"]
    assert [t.get_text() for t in th_ax.get_xticklabels()] == ["23/2/2024", "22/3/2024",
                                                              "19/4/2024"]  # fmt: skip
    assert mesh.get_clim() == (0, 1)  # colours mean the same in every panel
    np.testing.assert_allclose(np.asarray(cs_ax.collections[0].get_array()), [[0.02, 0.04, 0.5]])
    assert "1 trường đứng yên" in th_ax.get_title(loc="left")
    assert figures.stalled_schools(table) == {"B"}


def test_coverage_heatmap_from_the_metric_table(tmp_path):
    processed = make_processed()
    table = metrics.coverage_school_history(processed.history, processed.schools)
    assert list(table.columns) == metrics.TABLE_COLUMNS["coverage_school_history"]
    saved = figures.publish("coverage_heatmap", {"coverage_school_history": table}, tmp_path)
    assert saved.png.is_file() and saved.svg.is_file()
    empty = table.iloc[0:0]
    shown = figures.publish("coverage_heatmap", {"coverage_school_history": empty}, tmp_path)
    assert isinstance(shown, figures.NoData) and not saved.png.exists()
