"""Who issued the staff's signatures: the providers' shares per level (``coverage_by_provider``)
and, from the providers' own lists, the types of signature per provider
(``coverage_signature_type``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from analysis.core import vocab
from analysis.core.fmt import fmt_int, fmt_pct
from analysis.figures import style
from analysis.figures.frame import no_data, present_levels, title
from analysis.figures.style import nfc

#: The colour of each type of signature (its name: ``vocab.CERT_TYPE_NAMES``).
CERT_TYPE_COLORS = {"token": "#1f5a96", "remote": "#e08a1e", "hsm": "#5b8c3a",
                    "unknown": "#b0b0b0"}  # fmt: skip


def provider_order(providers) -> list[str]:
    """The providers with a fixed colour first (in that order), then the others by name, the
    "Không rõ ..." ones last."""
    fixed = [p for p in style.PROVIDER_COLORS if p in set(providers)]
    others = sorted(p for p in set(providers) if p not in fixed and not p.startswith("Không rõ"))
    unknown = sorted(p for p in set(providers) if p.startswith("Không rõ"))
    return fixed + others + unknown


def coverage_by_provider(table: pd.DataFrame, period: str | None = None) -> Figure:
    """100% stacked bars: the share of each provider among the signed staff of a level."""
    text = "Nhà cung cấp chữ ký số theo cấp học"
    levels = present_levels(table, with_total=True)
    if not levels:
        return no_data(text, period, "Chưa có danh sách CBGVNV có chữ ký số")
    providers = provider_order(table["provider"].astype("str"))
    colors = style.provider_colors(providers)
    t = table.set_index(["level", "provider"])
    with style.use_style():
        fig = style.new_figure(2.8 + 1.1 * len(levels))
        ax = fig.add_subplot()
        left = np.zeros(len(levels))
        for prov in providers:
            share = np.array(
                [
                    float(t.loc[(lv, prov), "share"]) if (lv, prov) in t.index else 0.0
                    for lv in levels
                ]
            )
            bars = ax.barh(
                range(len(levels)),
                share,
                left=left,
                height=0.6,
                color=colors[prov],
                label=nfc(prov),
            )
            labels = [fmt_pct(s, 0) if s >= 0.08 else "" for s in share]
            ax.bar_label(bars, labels=labels, label_type="center", fontsize=7)
            left += share
        ax.set_yticks(range(len(levels)), labels=[nfc(lv) for lv in levels])
        ax.set_ylim(len(levels) - 0.5, -0.5)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(style.pct_formatter())
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=min(len(providers), 4))
        title(fig, text, period, "tỷ trọng trong số CBGVNV đã có chữ ký số")
    return fig


def coverage_signature_type(table: pd.DataFrame, period: str | None = None) -> Figure:
    """Stacked bars per provider: the staff signed by the providers' lists, by type of
    signature (USB Token, remote, HSM, unknown), counts labelled."""
    text = "Loại chữ ký số theo nhà cung cấp"
    if table is None or table.empty or int(table["n_staff"].sum()) == 0:
        return no_data(text, period, "Chưa có danh sách thuê bao của nhà cung cấp")
    providers = provider_order(table["provider"].astype("str"))
    kinds = [k for k in vocab.CERT_TYPE_NAMES if k in set(table["cert_type"].astype("str"))]
    t = table.set_index(["provider", "cert_type"])["n_staff"]
    with style.use_style():
        fig = style.new_figure(2.8 + 0.8 * len(providers))
        ax = fig.add_subplot()
        left = np.zeros(len(providers))
        for kind in kinds:
            n = np.array([float(t.get((prov, kind), 0)) for prov in providers])
            bars = ax.barh(
                range(len(providers)),
                n,
                left=left,
                height=0.6,
                color=CERT_TYPE_COLORS[kind],
                label=vocab.CERT_TYPE_NAMES[kind],
            )
            total = max(float(left.max() + n.max()), 1.0)
            labels = [fmt_int(v) if v and v / total >= 0.04 else "" for v in n]
            ax.bar_label(bars, labels=labels, label_type="center", fontsize=7)
            left += n
        ax.set_yticks(range(len(providers)), labels=[nfc(p) for p in providers])
        ax.set_ylim(len(providers) - 0.5, -0.5)
        ax.set_xlabel("Số CBGVNV đã có chữ ký số")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=min(len(kinds), 4))
        title(fig, text, period, "theo danh sách thuê bao của nhà cung cấp")
    return fig
