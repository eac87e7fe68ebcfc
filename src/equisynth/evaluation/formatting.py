"""Text forms of metric values shared by the terminal summary and the HTML report."""

import math

import pandas as pd


def format_value(row: pd.Series | dict) -> str:
    """'0.123 [0.101, 0.150]', 'too small (n=12)', '0.200 (fixed)' or 'not estimable'."""
    if bool(row["too_small"]):
        return f"too small (n={int(row['n'])})"
    value = row["value"]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not estimable"
    low, high = row["ci_low"], row["ci_high"]
    if low is None or high is None or (isinstance(low, float) and math.isnan(low)) or (isinstance(high, float) and math.isnan(high)):
        return f"{value:.3f} (fixed)" if row["metric"] == "target_share" else f"{value:.3f} (no interval)"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"
