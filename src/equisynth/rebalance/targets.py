"""Target shares per group: parity, a reference CSV (e.g. census shares), or explicit shares.

A group is a tuple of values, one per `by` attribute, in `by` order; its label joins the values
with " x " (e.g. "BLACK x Medicaid"). Values are compared as text, so a CSV's "1" matches 1.
"""

from pathlib import Path

import pandas as pd

from equisynth.errors import ConfigError
from equisynth.rebalance.spec import GROUP_SEPARATOR, SHARE_SUM_TOLERANCE

Group = tuple[str, ...]


def group_label(group: Group) -> str:
    return GROUP_SEPARATOR.join(str(value) for value in group)


def parity_shares(groups: list[Group]) -> dict[Group, float]:
    """Equal shares for every group."""
    if not groups:
        return {}
    return {group: 1.0 / len(groups) for group in groups}


def explicit_shares(shares: dict[str, float], by: list[str], domain: list[Group]) -> dict[Group, float]:
    """Map labels such as "BLACK x Medicaid" to groups; raise ConfigError on a label outside `domain`."""
    by_label = {group_label(group): group for group in domain}
    result: dict[Group, float] = {}
    for label, share in shares.items():
        key = GROUP_SEPARATOR.join(part.strip() for part in label.split(GROUP_SEPARATOR.strip()))
        if key not in by_label:
            parts = key.split(GROUP_SEPARATOR)
            expected = f"{len(by)} value(s) joined with '{GROUP_SEPARATOR.strip()}' in the order {by}"
            if len(parts) != len(by):
                raise ConfigError(f"Invalid rebalancing spec: shares key {label!r} must have {expected}.")
            allowed = ", ".join(sorted(by_label)) or "(none)"
            raise ConfigError(
                f"Invalid rebalancing spec: shares key {label!r} is not a group of {by} in the training rows. "
                f"Allowed groups: {allowed}."
            )
        result[by_label[key]] = float(share)
    return _normalised(result)


def reference_shares(csv_path: str | Path, by: list[str], domain: list[Group]) -> dict[Group, float]:
    """Read a CSV with one column per `by` attribute and a `share` column.

    Raises ConfigError naming the file, column and value for a missing file or column, a share
    that is not a number in [0, 1], a duplicate group, a value outside `domain`, or shares that do
    not sum to 1.
    """
    path = Path(csv_path).expanduser()
    if not path.is_file():
        raise ConfigError(f"Reference CSV {path} not found (rebalance key `reference_csv`). Give a CSV with columns {by + ['share']}.")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Reference CSV {path} cannot be read as CSV: {exc}.") from exc

    missing = [column for column in by + ["share"] if column not in table.columns]
    if missing:
        raise ConfigError(
            f"Reference CSV {path} lacks column(s) {missing}; it needs one column per `by` attribute "
            f"and a `share` column: {by + ['share']}."
        )

    shares = pd.to_numeric(table["share"], errors="coerce")
    for row_number, (text, share) in enumerate(zip(table["share"], shares), start=2):
        if pd.isna(share) or not 0.0 <= share <= 1.0:
            raise ConfigError(f"Reference CSV {path}, line {row_number}, column share: {text!r} is not a number between 0 and 1.")
    total = float(shares.sum())
    if abs(total - 1.0) > SHARE_SUM_TOLERANCE:
        raise ConfigError(f"Reference CSV {path}: column share sums to {total:.4f}, not 1. Adjust the shares so they add up to 1.")

    known = {tuple(str(value) for value in group): group for group in domain}
    result: dict[Group, float] = {}
    for row_number, (_, row) in enumerate(table.iterrows(), start=2):
        key = tuple(row[column].strip() for column in by)
        if key not in known:
            values = {column: sorted({str(group[i]) for group in domain}) for i, column in enumerate(by)}
            raise ConfigError(
                f"Reference CSV {path}, line {row_number}: group {group_label(key)!r} is not a group of {by} "
                f"in the training rows. Allowed values per column: {values}."
            )
        if known[key] in result:
            raise ConfigError(f"Reference CSV {path}, line {row_number}: group {group_label(key)!r} is listed twice.")
        result[known[key]] = float(shares.iloc[row_number - 2])
    return _normalised(result)


def _normalised(shares: dict[Group, float]) -> dict[Group, float]:
    total = sum(shares.values())
    if total <= 0:
        raise ConfigError("Invalid rebalancing spec: every target share is 0; give at least one group a positive share.")
    return {group: share / total for group, share in shares.items()}
