"""One figure style for every chart of the suite.

- ``use_style()``: a context (``matplotlib.rc_context``) with the house settings: DejaVu Sans
  (covers Vietnamese), sizes readable when the figure is printed 16 cm wide on A4, the
  Okabe-Ito colour-blind-safe palette, a fixed SVG hash salt. Figures are built and saved
  inside it; nothing is set globally, and the backend is never chosen here (a global Agg
  backend would drop the inline figures of executed notebooks).
- Fixed colours per level, role and provider (the same level has the same colour everywhere).
- Vietnamese axis formats (``87.097``, ``69,8%``) from ``analysis.core.fmt``.
- ``mark_sample(fig)``: the "Dữ liệu mẫu" stamp on figures made from the sample data.
- ``save(fig, path)``: PNG (200 dpi) and SVG, byte-identical on a rerun; all text NFC.
"""

from __future__ import annotations

import io as _bytes_io
import re
import unicodedata
from contextlib import contextmanager
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter

from analysis.core import io, vocab
from analysis.core.fmt import fmt_int, fmt_num, fmt_pct
from analysis.paths import SAMPLE_LABEL

CM = 1 / 2.54
#: Width of a figure on an A4 page with the administrative margins (30 mm + 20 mm).
WIDTH_CM = 16.0
DPI = 200
SVG_HASHSALT = "hocbaso"

#: Okabe & Ito (2008), colour-blind safe.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
GREY = "#999999"
LIGHT_GREY = "#DDDDDD"

LEVEL_COLORS = {
    vocab.MN: OKABE_ITO["orange"],
    vocab.TH: OKABE_ITO["blue"],
    vocab.THCS: OKABE_ITO["green"],
    vocab.THPT: OKABE_ITO["vermillion"],
    vocab.GDTX: OKABE_ITO["purple"],
    vocab.MULTI_LEVEL: OKABE_ITO["sky_blue"],
    vocab.TOTAL: OKABE_ITO["black"],
}
ROLE_COLORS = {
    "CBQL": OKABE_ITO["purple"],
    "GV": OKABE_ITO["sky_blue"],
    "NV": OKABE_ITO["vermillion"],
}
PROVIDER_COLORS = {
    "Viettel": OKABE_ITO["vermillion"],
    "VNPT": OKABE_ITO["blue"],
    "FPT": OKABE_ITO["orange"],
    "BKAV": OKABE_ITO["green"],
    "MISA": OKABE_ITO["purple"],
    "VGCA": OKABE_ITO["sky_blue"],
}
#: Extra colours, in order, for providers outside the list above.
_SPARE = [OKABE_ITO["yellow"], "#882255", "#44AA99", "#117733", "#332288"]
#: Bars of districts (all levels together): neither a level's colour nor the total's black.
DISTRICT_COLOR = OKABE_ITO["sky_blue"]
TARGET_COLOR = OKABE_ITO["vermillion"]
AVERAGE_COLOR = OKABE_ITO["black"]

RC = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.titleweight": "bold",
    "axes.labelsize": 8.5,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 11,
    "figure.titleweight": "bold",
    "figure.figsize": (WIDTH_CM * CM, 10 * CM),
    "figure.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.prop_cycle": cycler(color=list(OKABE_ITO.values())),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "grid.color": "#E5E5E5",
    "grid.linewidth": 0.6,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "svg.hashsalt": SVG_HASHSALT,
    "svg.fonttype": "path",
    "axes.formatter.use_locale": False,
}


@contextmanager
def use_style():
    """The house style for the duration of a ``with`` block (nothing set globally)."""
    with mpl.rc_context(RC):
        yield


def nfc(text) -> str:
    """Labels go to matplotlib in NFC (DejaVu Sans draws precomposed Vietnamese letters)."""
    return unicodedata.normalize("NFC", str(text))


def level_color(level: str) -> str:
    return LEVEL_COLORS.get(level, GREY)


def role_color(role: str) -> str:
    return ROLE_COLORS.get(role, GREY)


def provider_colors(providers) -> dict[str, str]:
    """A colour per provider: the fixed ones first, then spare colours in sorted name order."""
    out, spare = {}, iter(_SPARE)
    for name in sorted(set(providers), key=str):
        if name in PROVIDER_COLORS:
            out[name] = PROVIDER_COLORS[name]
        elif name.startswith("Không rõ"):
            out[name] = LIGHT_GREY
        else:
            out[name] = next(spare, GREY)
    return out


def new_figure(height_cm: float, width_cm: float = WIDTH_CM, **kwargs) -> Figure:
    """A pyplot figure (so notebooks can display it) with constrained layout."""
    return plt.figure(figsize=(width_cm * CM, height_cm * CM), layout="constrained", **kwargs)


def pct_formatter(decimals: int = 0) -> FuncFormatter:
    """Axis ticks of a ratio as Vietnamese percentages: 0.5 -> '50%'."""
    return FuncFormatter(lambda x, _pos: fmt_pct(x, decimals))


def int_formatter() -> FuncFormatter:
    """Axis ticks as Vietnamese integers: 87097 -> '87.097'."""
    return FuncFormatter(lambda x, _pos: fmt_int(x))


def millions_formatter() -> FuncFormatter:
    """Axis ticks in millions (the axis title says "triệu"): 14_500_000 -> '14,5', 2e6 -> '2'."""

    def text(x, _pos) -> str:
        value = fmt_num(x / 1e6, 1)
        return value[:-2] if value.endswith(",0") else value

    return FuncFormatter(text)


def num_formatter(decimals: int = 0) -> FuncFormatter:
    """Axis ticks as Vietnamese decimals: 2.5 -> '2,5' (``decimals=1``)."""
    return FuncFormatter(lambda x, _pos: fmt_num(x, decimals))


def mark_sample(fig: Figure, sample: bool = True) -> Figure:
    """Stamp "Dữ liệu mẫu" in the lower right corner when the figure shows sample data."""
    if sample:
        fig.text(
            0.995,
            0.005,
            SAMPLE_LABEL,
            ha="right",
            va="bottom",
            fontsize=8,
            style="italic",
            color=OKABE_ITO["vermillion"],
            gid="sample-mark",
        )
    return fig


def normalize_text(fig: Figure) -> Figure:
    """Make every text of the figure NFC (titles, tick labels, annotations, legends)."""
    for artist in fig.findobj(Text):
        text = artist.get_text()
        if text and unicodedata.normalize("NFC", text) != text:
            artist.set_text(unicodedata.normalize("NFC", text))
    return fig


_CLIP_ID = re.compile(rb'<clipPath id="(p[0-9a-f]{10})"')


def stable_clip_ids(svg: bytes) -> bytes:
    """Number the SVG's clip paths in the order they are drawn: ``clip0``, ``clip1``, ...

    matplotlib names a clip path by a hash of its rectangle's full-precision coordinates, so an
    axes placed 1e-15 further by the layout (which depends on what the process drew before, as
    in the per-commune reports, drawn by worker processes in whatever order) gets another name,
    and the file other bytes, though nothing drawn moves.
    """
    names = list(dict.fromkeys(m.group(1) for m in _CLIP_ID.finditer(svg)))
    if not names:
        return svg
    mapping = {name: b"clip%d" % i for i, name in enumerate(names)}
    return re.sub(rb"p[0-9a-f]{10}", lambda m: mapping.get(m.group(0), m.group(0)), svg)


class SavedFigure:
    """What ``save`` returns: the figure, its two files, and the saved PNG for display.

    A notebook cell ending with it shows the PNG that was written (``_repr_png_``) instead of
    having the inline backend draw the figure a third time: the same picture the report uses,
    at no cost (drawing is most of a figure cell's time, see ``benchmarks/bench_batch.py``).
    """

    #: Display width: the figure's width at 96 px per inch (a 16 cm figure is ~600 px wide).
    DISPLAY_DPI = 96

    def __init__(self, figure: Figure, png: Path, svg: Path, png_bytes: bytes):
        self.figure = figure
        self.png = png
        self.svg = svg
        self._png_bytes = png_bytes

    def _repr_png_(self):
        width = round(self.figure.get_figwidth() * self.DISPLAY_DPI)
        return self._png_bytes, {"width": width}

    def __repr__(self) -> str:
        return f"<SavedFigure {self.png.name} + {self.svg.name} in {self.png.parent}>"


def save(fig: Figure, path_without_suffix: Path | str) -> SavedFigure:
    """Write ``<path>.png`` (200 dpi) and ``<path>.svg``, byte-identical on a rerun.

    The figure is closed (no pyplot state is kept). The layout is computed once, for the PNG,
    and frozen for the SVG: with no layout engine left (``set_layout_engine(None)``; "none"
    would leave a placeholder engine, for which matplotlib still draws the figure once before
    printing) the SVG is drawn once, at the same positions. Returns a
    ``SavedFigure`` that a notebook cell can end with to show the saved PNG.
    """
    base = Path(path_without_suffix)
    base.parent.mkdir(parents=True, exist_ok=True)
    normalize_text(fig)
    written: dict[str, bytes] = {}
    with use_style():
        for suffix, metadata in ((".png", {"Software": None}), (".svg", {"Date": None})):
            buffer = _bytes_io.BytesIO()
            fig.savefig(buffer, format=suffix[1:], dpi=DPI, metadata=metadata)
            written[suffix] = buffer.getvalue()
            if suffix == ".svg":
                written[suffix] = stable_clip_ids(written[suffix])
            if suffix == ".png":
                fig.set_layout_engine(None)
    for suffix, data in written.items():
        io.write_bytes(base.with_name(base.name + suffix), data)
    plt.close(fig)
    return SavedFigure(
        fig, base.with_name(base.name + ".png"), base.with_name(base.name + ".svg"), written[".png"]
    )
