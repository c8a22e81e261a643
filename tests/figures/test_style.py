"""The figure style: fonts, palette, Vietnamese axis formats, sample mark, deterministic save."""

from __future__ import annotations

import unicodedata

import matplotlib

matplotlib.use("Agg")  # tests only; the library never picks a backend

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.font_manager import FontProperties, findfont  # noqa: E402

from analysis.figures import style  # noqa: E402


def test_use_style_is_scoped_and_uses_a_font_covering_vietnamese():
    before = mpl.rcParams["svg.hashsalt"]
    with style.use_style():
        assert mpl.rcParams["svg.hashsalt"] == style.SVG_HASHSALT
        font = findfont(FontProperties(family=mpl.rcParams["font.sans-serif"][0]))
        assert "DejaVuSans" in font
    assert mpl.rcParams["svg.hashsalt"] == before


def test_fixed_colours_are_distinct_and_colour_blind_safe():
    levels = [style.level_color(lv) for lv in ("Mầm non", "Tiểu học", "THCS")]
    assert len(set(levels)) == 3 and set(levels) <= set(style.OKABE_ITO.values())
    colors = style.provider_colors(["VNPT", "Viettel", "Nhà CA khác", "Không rõ nhà cung cấp"])
    assert colors["Viettel"] == style.PROVIDER_COLORS["Viettel"]
    assert colors["Không rõ nhà cung cấp"] == style.LIGHT_GREY
    assert len(set(colors.values())) == 4


def test_vietnamese_axis_formatters():
    assert style.pct_formatter()(0.5, 0) == "50%"
    assert style.pct_formatter(1)(0.698, 0) == "69,8%"
    assert style.int_formatter()(87097, 0) == "87.097"
    assert style.num_formatter(1)(2.5, 0) == "2,5"  # computers per 100 pupils


def test_nfc_and_sample_mark(tmp_path):
    nfd = unicodedata.normalize("NFD", "Tiểu học")
    assert style.nfc(nfd) == "Tiểu học" and style.nfc(nfd) != nfd
    with style.use_style():
        fig = style.new_figure(5)
        ax = fig.add_subplot()
        ax.set_title(nfd)
    style.mark_sample(fig, sample=True)
    style.save(fig, tmp_path / "x")
    assert ax.get_title() == "Tiểu học"  # normalised on save
    texts = [t.get_text() for t in fig.texts]
    assert "Dữ liệu mẫu" in texts
    assert "Dữ liệu mẫu" not in [t.get_text() for t in style.mark_sample(plt.figure(), False).texts]
    plt.close("all")


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_save_is_byte_identical_and_closes(tmp_path, suffix):
    def draw():
        with style.use_style():
            fig = style.new_figure(6)
            ax = fig.add_subplot()
            ax.bar([0, 1], [0.3, 0.7])
            ax.set_title("Tỷ lệ có chữ ký số")
        return fig

    fig = draw()
    returned = style.save(fig, tmp_path / "a" / "fig")
    assert returned.figure is fig and not plt.fignum_exists(fig.number)
    first = (tmp_path / "a" / f"fig{suffix}").read_bytes()
    assert getattr(returned, suffix[1:]) == tmp_path / "a" / f"fig{suffix}"
    if suffix == ".png":  # a notebook shows the file that was written, at ~96 px per inch
        data, meta = returned._repr_png_()
        assert data == first and meta["width"] == round(fig.get_figwidth() * 96)
    style.save(draw(), tmp_path / "a" / "fig")
    assert (tmp_path / "a" / f"fig{suffix}").read_bytes() == first
    assert not list((tmp_path / "a").glob("*.tmp*"))
    if suffix == ".svg":
        assert b"<dc:date>" not in first
    else:
        assert b"Software" not in first


def test_save_lays_out_once_and_draws_the_svg_once(tmp_path, monkeypatch):
    """The PNG needs a layout pass and a draw; the SVG reuses that layout and is drawn once
    (a placeholder layout engine would cost it one more draw). The SVG's positions are the
    PNG's: the bars keep the places constrained layout gave them."""
    from matplotlib.figure import Figure

    draws = []
    real = Figure.draw

    def counting(self, renderer):
        draws.append(type(renderer).__name__)
        return real(self, renderer)

    monkeypatch.setattr(Figure, "draw", counting)
    with style.use_style():
        fig = style.new_figure(6)
        ax = fig.add_subplot()
        ax.barh(["Trường Tiểu học Ngọc Lâm", "Trường THCS Phúc Lợi"], [0.3, 0.7])
    style.save(fig, tmp_path / "fig")
    assert draws == ["RendererAgg", "RendererAgg", "MixedModeRenderer"]  # PNG x2, SVG x1
    assert fig.get_layout_engine() is None
    left = ax.get_position().x0
    assert left > 0.2  # the long tick labels pushed the axes right: the layout was kept


def test_svg_clip_paths_are_named_by_order_not_by_float_bits(tmp_path):
    """An axes 1e-15 further (the layout after other figures in a worker process) draws the
    same picture: the SVG bytes are the same (the per-commune reports were not)."""

    def draw(left: float):
        fig = plt.figure(figsize=(4, 3))
        fig.set_layout_engine(None)
        ax = fig.add_axes((left, 0.1, 0.8, 0.8))
        ax.bar([0, 1], [0.3, 0.7])
        return fig

    style.save(draw(0.1), tmp_path / "a")
    style.save(draw(0.1 + 1e-15), tmp_path / "b")
    a, b = (tmp_path / "a.svg").read_bytes(), (tmp_path / "b.svg").read_bytes()
    assert b'<clipPath id="clip0">' in a and b'clip-path="url(#clip0)"' in a
    assert a == b
