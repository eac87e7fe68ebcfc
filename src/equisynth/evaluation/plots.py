"""Report figures drawn with matplotlib and returned as inline SVG markup."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REAL_COLOUR, SYNTHETIC_COLOUR, HOLDOUT_COLOUR = "#1f77b4", "#d62728", "#2ca02c"


def to_svg(figure) -> str:
    """Render the figure as an <svg> element (no XML prologue, text kept as SVG text) and close it."""
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "equisynth"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def marginal_figure(real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[str], title: str) -> str:
    """Overlaid histograms (numbers) or bars (categories) of real and synthetic rows, one panel per column."""
    figure, axes = plt.subplots(1, len(columns), figsize=(3.2 * len(columns), 2.6), squeeze=False)
    for axis, column in zip(axes[0], columns):
        real_values = pd.to_numeric(real[column], errors="coerce")
        if real_values.notna().all() and real_values.nunique() > 10:
            syn_values = pd.to_numeric(synthetic[column], errors="coerce").dropna()
            bins = np.histogram_bin_edges(np.concatenate([real_values, syn_values]), bins=20)
            axis.hist(real_values, bins=bins, density=True, alpha=0.5, color=REAL_COLOUR, label="real")
            axis.hist(syn_values, bins=bins, density=True, alpha=0.5, color=SYNTHETIC_COLOUR, label="synthetic")
        else:
            p = real[column].astype(str).value_counts(normalize=True)
            q = synthetic[column].astype(str).value_counts(normalize=True)
            p, q = p.align(q, fill_value=0.0)
            order = sorted(p.index, key=_natural_key)
            p, q = p.reindex(order), q.reindex(order)
            positions = np.arange(len(p))
            axis.bar(positions - 0.2, p.to_numpy(), 0.4, color=REAL_COLOUR, label="real")
            axis.bar(positions + 0.2, q.to_numpy(), 0.4, color=SYNTHETIC_COLOUR, label="synthetic")
            axis.set_xticks(positions, p.index, rotation=45, ha="right", fontsize=7)
        axis.set_title(column, fontsize=9)
    axes[0][0].legend(fontsize=7)
    figure.suptitle(title, fontsize=10, y=1.06)
    return to_svg(figure)


def _natural_key(label: str) -> tuple:
    """Numbers in numeric order before other labels in alphabetical order."""
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def heatmap_figure(matrices: dict[str, np.ndarray], labels: list[str]) -> str:
    """Side-by-side heatmaps (e.g. real phi, synthetic phi, difference) on one colour scale."""
    figure, axes = plt.subplots(1, len(matrices), figsize=(4.2 * len(matrices), 4.0), squeeze=False)
    short = [label.replace("elix_", "") for label in labels]
    for axis, (title, matrix) in zip(axes[0], matrices.items()):
        image = axis.imshow(np.nan_to_num(matrix), vmin=-1, vmax=1, cmap="RdBu_r")
        axis.set_xticks(range(len(short)), short, rotation=90, fontsize=5)
        axis.set_yticks(range(len(short)), short, fontsize=5)
        axis.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axes[0].tolist(), shrink=0.7)
    return to_svg(figure)


def interval_figure(table: pd.DataFrame, title: str) -> str:
    """Point estimates with 95% intervals per subgroup, one colour per series (columns: subgroup, series, value, ci_low, ci_high)."""
    series = list(dict.fromkeys(table["series"]))
    groups = list(dict.fromkeys(table["subgroup"]))
    figure, axis = plt.subplots(figsize=(max(4.0, 0.9 * len(groups) + 2), 3.0))
    colours = [REAL_COLOUR, SYNTHETIC_COLOUR, HOLDOUT_COLOUR, "#9467bd"]
    for index, name in enumerate(series):
        rows = table[table["series"] == name].set_index("subgroup").reindex(groups)
        x = np.arange(len(groups)) + (index - (len(series) - 1) / 2) * 0.15
        value = rows["value"].to_numpy(float)
        low = np.nan_to_num(value - rows["ci_low"].to_numpy(float))
        high = np.nan_to_num(rows["ci_high"].to_numpy(float) - value)
        axis.errorbar(x, value, yerr=[low, high], fmt="o", capsize=3, color=colours[index % 4], label=name)
    axis.set_xticks(range(len(groups)), groups, rotation=30, ha="right", fontsize=7)
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7)
    return to_svg(figure)


def histogram_figure(samples: dict[str, np.ndarray], title: str, xlabel: str) -> str:
    """Overlaid histograms of several samples on shared bins."""
    finite = {name: values[np.isfinite(values)] for name, values in samples.items()}
    pooled = np.concatenate(list(finite.values())) if finite else np.zeros(1)
    bins = np.histogram_bin_edges(pooled if pooled.size else np.zeros(1), bins=30)
    figure, axis = plt.subplots(figsize=(5.5, 3.0))
    for (name, values), colour in zip(finite.items(), [SYNTHETIC_COLOUR, HOLDOUT_COLOUR, REAL_COLOUR]):
        axis.hist(values, bins=bins, density=True, alpha=0.5, color=colour, label=name)
    axis.set_xlabel(xlabel, fontsize=8)
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7)
    return to_svg(figure)


def bar_figure(table: pd.DataFrame, title: str) -> str:
    """Grouped bars: index = groups, one bar per column."""
    figure, axis = plt.subplots(figsize=(max(4.0, 0.8 * len(table) + 2), 3.0))
    width = 0.8 / max(1, len(table.columns))
    positions = np.arange(len(table))
    for index, column in enumerate(table.columns):
        axis.bar(positions + (index - (len(table.columns) - 1) / 2) * width, table[column].to_numpy(float), width, label=column)
    axis.set_xticks(positions, table.index, rotation=30, ha="right", fontsize=7)
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7)
    return to_svg(figure)
