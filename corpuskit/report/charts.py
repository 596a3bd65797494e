"""Charts as inline SVG drawn by matplotlib (already a dependency): no JavaScript, no network, scales to any
screen width, and the bytes are the same for the same data (fixed hash salt, no date in the metadata).

Every chart has a title and labelled axes and uses the Okabe-Ito palette, which stays distinct for the
common forms of colour blindness. Text is emitted as SVG ``<text>`` (escaped by matplotlib), not glyph
paths, so a chart is small and its labels are searchable.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

# Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish green, vermillion, sky blue,
# reddish purple, yellow, black.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000"]
KEPT, DROPPED = PALETTE[0], PALETTE[1]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(STYLE)
    return plt


STYLE = {
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "text.parse_math": False,  # names and labels are text: a '$' in one is not TeX
}


W, H = 6.0, 3.4  # inches: one size for the charts of a grid, so their text renders at the same size


def _figure(width: float = W, height: float = H):
    # constrained layout fits the labels in at half the cost of bbox_inches="tight" (which draws twice)
    return _plt().subplots(figsize=(width, height), layout="constrained")


def to_svg(fig: Any, key: str) -> str:
    """The figure as an ``<svg>`` element; ``key`` salts matplotlib's element ids so that several charts
    on one page never share an id and the output is deterministic."""
    plt = _plt()
    buf = io.StringIO()
    with plt.rc_context({"svg.hashsalt": key}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def funnel_chart(key: str, title: str, stages: Sequence[tuple[str, int, int]]) -> str:
    """Horizontal bars: documents and bytes at each step of a funnel (in, each filter's drops, kept)."""
    plt = _plt()
    labels = [s[0] for s in stages]
    fig, axes = plt.subplots(
        1, 2, figsize=(W, max(H, 0.45 * len(stages) + 1.3)), sharey=True, layout="constrained"
    )
    colours = [PALETTE[4]] + [DROPPED] * (len(stages) - 2) + [KEPT]
    for ax, i, unit in ((axes[0], 1, "documents"), (axes[1], 2, "bytes")):
        vals = [s[i] for s in stages]
        ax.barh(range(len(stages)), vals, color=colours)
        for y, v in enumerate(vals):
            ax.text(v, y, f" {v:,}", va="center", fontsize=8)
        ax.set_xlabel(unit)
        ax.set_xlim(0, max(vals + [1]) * 1.3)
    axes[0].set_yticks(range(len(stages)), labels)
    axes[0].invert_yaxis()
    fig.suptitle(title)
    return to_svg(fig, key)


def histogram_chart(
    key: str,
    title: str,
    xlabel: str,
    edges: Sequence[float],
    kept: Sequence[int],
    dropped: Sequence[int],
    thresholds: Sequence[tuple[str, float]] = (),
) -> str:
    """Stacked bars per bin (kept below, dropped above) with each threshold drawn as a dashed line.

    Bins may be uneven (``gopher_words`` is roughly logarithmic) so bars sit at bin indices and a
    threshold is placed by linear interpolation inside its bin."""
    fig, ax = _figure()
    x = np.arange(len(kept))
    ax.bar(x, kept, width=0.9, color=KEPT, label="kept")
    ax.bar(x, dropped, width=0.9, bottom=kept, color=DROPPED, label="dropped")
    ax.set_xticks(x, [_bin_label(edges[i], edges[i + 1]) for i in x], rotation=45, ha="right", fontsize=7)
    for j, (name, value) in enumerate(thresholds):
        pos = _position(edges, value)
        if pos is not None:
            ax.axvline(
                pos, color=[PALETTE[3], PALETTE[5]][j % 2], ls="--", lw=1.2, label=f"{name} = {value:g}"
            )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("documents")
    ax.set_title(title)
    ax.set_ylim(
        0, max([1, *(k + d for k, d in zip(kept, dropped, strict=True))]) * 1.45
    )  # room for the legend
    ax.legend(fontsize=7, loc="upper right")
    return to_svg(fig, key)


def _bin_label(lo: float, hi: float) -> str:
    def f(v: float) -> str:
        return "∞" if math.isinf(v) else (f"{v:g}" if v < 1000 else f"{v / 1000:g}k")

    return f"{f(lo)}–{f(hi)}"


def _position(edges: Sequence[float], value: float) -> float | None:
    """Where ``value`` falls on the bin-index axis (bar i spans i-0.45..i+0.45, edges at i±0.5)."""
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        if lo <= value <= hi:
            share = 0.5 if math.isinf(hi) else (value - lo) / (hi - lo)
            return i - 0.5 + share
    return None


def bar_chart(
    key: str, title: str, xlabel: str, ylabel: str, labels: Sequence[str], values: Sequence[float]
) -> str:
    """Simple vertical bars (languages, cluster sizes)."""
    fig, ax = _figure()
    ax.bar(range(len(values)), values, color=PALETTE[0])
    ax.set_xticks(
        range(len(values)),
        labels,
        rotation=30 if len(values) > 6 else 0,
        ha="right" if len(values) > 6 else "center",
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return to_svg(fig, key)


def heatmap_chart(
    key: str, title: str, sources: Sequence[str], matrix: np.ndarray, counts: np.ndarray
) -> str:
    """Cross-source overlap: share of ROW's documents with a duplicate in COLUMN, count in each cell."""
    fig, ax = _figure(1.1 * len(sources) + 2.6, 0.9 * len(sources) + 1.6)
    im = ax.imshow(matrix * 100, cmap="cividis", vmin=0, vmax=max(1.0, float(matrix.max() * 100)))
    ax.set_xticks(range(len(sources)), sources, rotation=30, ha="right")
    ax.set_yticks(range(len(sources)), sources)
    for i in range(len(sources)):
        for j in range(len(sources)):
            light = matrix[i, j] * 100 < 0.6 * max(1.0, float(matrix.max() * 100))
            ax.text(
                j,
                i,
                f"{int(counts[i, j]):,}\n{100 * matrix[i, j]:.1f}%",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if light else "black",
            )
    ax.set_xlabel("has a near duplicate in (column)")
    ax.set_ylabel("documents of (row)")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="% of row's documents")
    return to_svg(fig, key)


def grouped_bars(
    key: str,
    title: str,
    ylabel: str,
    groups: Sequence[str],
    series: dict[str, Sequence[float]],
    errors: dict[str, Sequence[float]] | None = None,
    ylim_from_data: bool = False,
) -> str:
    """Bars per group for each series (mixture weights asked vs realised; BPB per eval set with error bars
    = std over seeds)."""
    fig, ax = _figure()
    width = 0.8 / max(1, len(series))
    for i, (name, vals) in enumerate(series.items()):
        xs = np.arange(len(groups)) + (i - (len(series) - 1) / 2) * width
        err = (
            None
            if errors is None
            else [0.0 if v is None or not math.isfinite(v) else v for v in errors[name]]
        )
        ax.bar(
            xs, vals, width, yerr=err, capsize=3 if err else 0, label=name, color=PALETTE[i % len(PALETTE)]
        )
    ax.set_xticks(np.arange(len(groups)), groups)
    if ylim_from_data:
        flat = [v for vals in series.values() for v in vals if v is not None and math.isfinite(v)]
        if flat:
            lo, hi = min(flat), max(flat)
            pad = max((hi - lo) * 0.6, 1e-3)
            ax.set_ylim(max(0.0, lo - pad), hi + pad)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(
        fontsize=7, frameon=False, ncol=min(4, len(series)), loc="upper left", bbox_to_anchor=(0, -0.12)
    )
    return to_svg(fig, key)


def line_chart(
    key: str, title: str, xlabel: str, ylabel: str, lines: dict[str, tuple[Sequence[float], Sequence[float]]]
) -> str:
    """Loss curves: one line per run, coloured by mixture (the label's part before '/')."""
    fig, ax = _figure()
    colour_of: dict[str, str] = {}
    seen: dict[str, int] = {}
    styles = ["-", "--", ":", "-."]
    for name, (xs, ys) in lines.items():
        group = name.partition("/")[0]
        colour = colour_of.setdefault(group, PALETTE[len(colour_of) % len(PALETTE)])
        n = seen[group] = seen.get(group, -1) + 1
        ax.plot(xs, ys, color=colour, ls=styles[n % len(styles)], lw=1.2, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=6, frameon=False, ncol=2)
    return to_svg(fig, key)


def scatter_chart(
    key: str, title: str, xlabel: str, ylabel: str, xs: Sequence[float], ys: Sequence[float]
) -> str:
    """Predicted vs measured with the identity line."""
    fig, ax = _figure(W * 0.75, H * 1.2)
    ax.scatter(xs, ys, s=18, color=PALETTE[0])
    both = [*xs, *ys]
    if both:
        lo, hi = min(both), max(both)
        ax.plot([lo, hi], [lo, hi], color=PALETTE[7], ls="--", lw=1, label="y = x")
        ax.legend(fontsize=7, frameon=False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return to_svg(fig, key)
