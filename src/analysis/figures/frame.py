"""What every figure shares: the title and its footnote line, panel titles, the figure that
only says there is no data, short school names, the levels present, a ratio of two sums."""

from __future__ import annotations

import re
import textwrap
from datetime import date

import pandas as pd
from matplotlib.figure import Figure

from analysis.core import vocab
from analysis.core.fmt import fmt_date
from analysis.figures import style
from analysis.figures.style import nfc

NO_DATA = "Chưa có số liệu"
NO_DATA_GID = "no-data"
FOOTNOTE_WIDTH = 90  # characters per footnote line
PANEL_TITLE_WIDTH = 80  # characters per line of a panel title's note

_PREFIX = re.compile(
    r"^(trường\s+)?(mầm non|mn|tiểu học|th|thcs|trung học cơ sở)\s+", flags=re.IGNORECASE
)


def short_name(name: str) -> str:
    """'Trường Tiểu học Ái Mộ A' -> 'Ái Mộ A' (panels are per level, the prefix is noise)."""
    name = nfc(name)
    short = _PREFIX.sub("", name).strip()
    return short or name


def period_text(period: str | None) -> str:
    if not period:
        return ""
    return f"Số liệu đến ngày {fmt_date(date.fromisoformat(str(period)))}"


def title(fig: Figure, text: str, period: str | None, note: str = "") -> None:
    """The bold title; the period and the note on a second, regular-weight line under it."""
    lines = [text] + [t for t in (period_text(period), note) if t]
    fig.suptitle(nfc(lines[0]))
    if len(lines) > 1:
        # Left-aligned and wrapped, so it never runs into the sample mark on the right.
        footnote = "\n".join(textwrap.wrap(" · ".join(lines[1:]), FOOTNOTE_WIDTH))
        fig.supxlabel(nfc(footnote), fontsize=7.5, color="#444444", x=0.01, ha="left")


def panel_title(ax, head: str, note: str = "") -> None:
    """A panel's title, left-aligned; a note goes on its own (wrapped) lines in a smaller size
    so it never runs off the page."""
    if not note:
        ax.set_title(nfc(head), loc="left")
        return
    lines: list[str] = []
    for part in f"({note})".split("; "):  # a line break between parts, not inside one
        if lines and len(lines[-1]) + 2 + len(part) <= PANEL_TITLE_WIDTH:
            lines[-1] += "; " + part
        else:
            lines += textwrap.wrap(part, PANEL_TITLE_WIDTH)
    ax.set_title(nfc("\n".join([head, *lines])), loc="left", fontsize=8)


def no_data(text: str, period: str | None, message: str = NO_DATA) -> Figure:
    """A figure that only says there is no data (``is_no_data``: never saved nor printed)."""
    with style.use_style():
        fig = style.new_figure(5)
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.5, nfc(message), ha="center", va="center", fontsize=10, color="#444444")
        title(fig, text, period)
    fig.set_gid(NO_DATA_GID)
    fig.no_data_message = nfc(f"{text}: {message[:1].lower()}{message[1:]}.")
    return fig


def is_no_data(fig: Figure) -> bool:
    return fig.get_gid() == NO_DATA_GID


class NoData:
    """What ``publish`` returns for a figure without data: one sentence, shown by a notebook
    cell (no picture, no file: the report then has no empty figure either)."""

    def __init__(self, name: str, message: str):
        self.name = name
        self.message = message

    def _repr_markdown_(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return self.message


def ratio(num: pd.Series, den: pd.Series) -> float:
    """sum(num) / sum(den), NaN when the denominator sums to 0."""
    n, d = pd.to_numeric(num).sum(), pd.to_numeric(den).sum()
    return float(n) / float(d) if d else float("nan")


def present_levels(table: pd.DataFrame, with_total: bool = False) -> list[str]:
    """The levels of ``table["level"]`` in the vocabulary's order (and Tổng cộng last)."""
    order = (*vocab.SCHOOL_LEVELS, vocab.TOTAL) if with_total else vocab.SCHOOL_LEVELS
    present = set(table["level"].astype("str"))
    return [lv for lv in order if lv in present]
