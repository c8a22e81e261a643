"""Coverage per school over the periods (``coverage_heatmap``): a seaborn heatmap per level,
the lowest schools first; a school whose signed count has not moved is named "(đứng yên)"."""

from __future__ import annotations

from datetime import date

import pandas as pd
from matplotlib.figure import Figure

from analysis.core.fmt import fmt_date, fmt_int
from analysis.figures import style
from analysis.figures.bars import LABEL_PT, MAX_BARS, stacked_panels
from analysis.figures.frame import no_data, panel_title, present_levels, short_name, title
from analysis.figures.style import nfc


def stalled_schools(table: pd.DataFrame, last: int = 3) -> set[str]:
    """Schools still under 100% whose signed count has not moved over their ``last`` periods
    (at least two periods of data)."""
    out = set()
    for code, sub in table.sort_values("period").groupby("school_code", sort=False):
        signed = pd.to_numeric(sub["n_signed"]).dropna().tail(last)
        cov = pd.to_numeric(sub["coverage"]).dropna()
        if len(signed) >= 2 and signed.nunique() == 1 and len(cov) and cov.iloc[-1] < 1:
            out.add(str(code))
    return out


def heatmap_matrix(table: pd.DataFrame, level: str, max_rows: int = MAX_BARS) -> pd.DataFrame:
    """The matrix the heatmap of one level shows: schools (rows: the lowest coverage at the
    latest period first, at most ``max_rows``) by periods (columns, oldest first)."""
    sub = table[table["level"] == level]
    wide = sub.pivot(index="school_code", columns="period", values="coverage")
    wide = wide.reindex(columns=sorted(wide.columns))
    latest = wide.iloc[:, -1] if wide.shape[1] else pd.Series(dtype=float)
    codes = pd.Series(wide.index, index=wide.index)
    order = pd.DataFrame({"latest": latest, "code": codes}).sort_values(
        ["latest", "code"], kind="mergesort", na_position="first"
    )
    return wide.loc[order.index[:max_rows]].astype(float)


def _heatmap_panel(ax, table, lv: str, matrix: pd.DataFrame, names, stalled: set[str]) -> None:
    """One level's heatmap: a row per school (short name, "(đứng yên)"), a column per period;
    the title counts the level's schools and the stalled ones."""
    import seaborn as sns

    n_level = int((table["level"] == lv).groupby(table["school_code"]).any().sum())
    labels = [
        short_name(names.get(code, code)) + (" (đứng yên)" if code in stalled else "")
        for code in matrix.index
    ]
    sns.heatmap(
        matrix.to_numpy(),
        ax=ax,
        vmin=0,
        vmax=1,
        cmap="RdYlGn",
        linewidths=0.3,
        linecolor="white",
        cbar=False,
        xticklabels=[fmt_date(date.fromisoformat(p)) for p in matrix.columns],
        yticklabels=[nfc(x) for x in labels],
    )
    ax.tick_params(axis="y", labelsize=LABEL_PT, rotation=0)
    ax.tick_params(axis="x", labelsize=LABEL_PT + 0.5, rotation=0)
    ax.set_xlabel("")
    ax.set_ylabel("")
    n_stalled = sum(code in stalled for code in matrix.index)
    head = f"{lv}: {fmt_int(n_level)} trường"
    head += f", {fmt_int(n_stalled)} trường đứng yên" if n_stalled else ""
    note = ""
    if len(matrix) < n_level:
        note = f"hiển thị {fmt_int(len(matrix))} trường thấp nhất kỳ này"
    panel_title(ax, head, note)


def coverage_heatmap(
    table: pd.DataFrame, period: str | None = None, max_rows: int = MAX_BARS
) -> Figure:
    """seaborn heatmap of coverage per school (rows, the lowest first) and period (columns),
    one panel per level: a school that does not move is a row of one colour, and is named
    "(đứng yên)"."""
    text = "Tỷ lệ có chữ ký số theo trường qua các kỳ"
    levels = present_levels(table) if len(table) else []
    if not levels:
        return no_data(text, period, "Chưa có số liệu chữ ký số theo trường qua các kỳ")
    names = table.drop_duplicates("school_code").set_index("school_code")["school_name"]
    stalled = stalled_schools(table)
    panels = [(lv, heatmap_matrix(table, lv, max_rows)) for lv in levels]
    with style.use_style():
        fig, axes = stacked_panels([len(m) + 2.5 for _, m in panels], extra_cm=3.5)
        for ax, (lv, matrix) in zip(axes, panels, strict=True):
            _heatmap_panel(ax, table, lv, matrix, names, stalled)
        bar = fig.colorbar(axes[0].collections[0], ax=list(axes), location="bottom",
                           fraction=0.03, pad=0.02, aspect=40)  # fmt: skip
        bar.ax.xaxis.set_major_formatter(style.pct_formatter())
        bar.ax.tick_params(labelsize=LABEL_PT)
        note = "đỏ: thấp, xanh: cao; đứng yên: số đã ký không đổi 3 kỳ gần nhất"
        title(fig, text, period, note)
    return fig
