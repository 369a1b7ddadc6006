"""Static PNG charts for e-mail (an e-mail client runs no JavaScript).

matplotlib with its Agg backend: a pip wheel with no browser and no native service to
start, so the same PNG comes out on a laptop, a container and CI (DECISIONLOG, Delivery).
Every chart is exactly ``WIDTH`` × ``HEIGHT`` pixels, the size the e-mail's ``<img>`` states.
"""

from __future__ import annotations

import io

import pandas as pd

WIDTH, HEIGHT, DPI = 640, 300, 100
COLORS = {"new_mrr": "#2e7d32", "expansion_mrr": "#66bb6a", "reactivation_mrr": "#29b6f6",
          "contraction_mrr": "#ffa726", "churned_mrr": "#e53935"}
LABELS = {"new_mrr": "New", "expansion_mrr": "Expansion", "reactivation_mrr": "Reactivation",
          "contraction_mrr": "Contraction", "churned_mrr": "Churned"}


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)
    return plt, fig, ax


def _png(plt, fig) -> bytes:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)  # no bbox_inches: the size stays WIDTH x HEIGHT
    plt.close(fig)
    return buffer.getvalue()


def _months(kpis: pd.DataFrame) -> list[str]:
    return [pd.Timestamp(m).strftime("%b %y") for m in kpis["month"]]


def movements_png(kpis: pd.DataFrame) -> bytes:
    """MRR movements of each month, stacked: gains above zero, losses below, net new as a line."""
    plt, fig, ax = _figure()
    x = range(len(kpis))
    up = [0.0] * len(kpis)
    down = [0.0] * len(kpis)
    for column in COLORS:
        values = [float(v or 0) for v in kpis[column]]
        base = [u if v >= 0 else d for v, u, d in zip(values, up, down, strict=True)]
        ax.bar(x, values, bottom=base, color=COLORS[column], label=LABELS[column], width=0.7)
        up = [u + max(v, 0) for u, v in zip(up, values, strict=True)]
        down = [d + min(v, 0) for d, v in zip(down, values, strict=True)]
    ax.plot(list(x), [float(v or 0) for v in kpis["net_new_mrr"]], color="#263238", marker="o", markersize=3,
            linewidth=1.2, label="Net new")
    ax.axhline(0, color="#90a4ae", linewidth=0.8)
    ax.set_xticks(list(x), _months(kpis), rotation=0)
    ax.yaxis.set_major_formatter(lambda v, _: f"${v / 1000:,.3g}k")
    ax.set_title("MRR movements by month", fontsize=10, loc="left")
    ax.legend(fontsize=7, ncol=6, loc="upper left", bbox_to_anchor=(0, -0.12), frameon=False)
    return _png(plt, fig)


def retention_png(kpis: pd.DataFrame) -> bytes:
    """Trailing-12-month NRR and GRR by month, in per cent."""
    plt, fig, ax = _figure()
    x = list(range(len(kpis)))
    for column, label, color in (("nrr_ttm", "NRR", "#1565c0"), ("grr_ttm", "GRR", "#8e24aa")):
        values = [None if pd.isna(v) else float(v) * 100 for v in kpis[column]]
        ax.plot(x, values, marker="o", markersize=3, linewidth=1.5, color=color, label=label)
    if kpis[["nrr_ttm", "grr_ttm"]].isna().all().all():
        ax.text(0.5, 0.5, "Not measured yet: retention compares each month with 12 months before",
                transform=ax.transAxes, ha="center", va="center", fontsize=9, color="#546e7a")
    ax.axhline(100, color="#90a4ae", linewidth=0.8, linestyle="--")
    ax.set_xticks(x, _months(kpis))
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0f} %")
    ax.set_title("Net and gross revenue retention (trailing 12 months)", fontsize=10, loc="left")
    ax.legend(fontsize=8, frameon=False)
    return _png(plt, fig)
