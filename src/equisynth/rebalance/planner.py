"""Plan how many synthetic rows each group needs to meet its target share.

Augment mode adds synthetic rows to the real training rows; the real rows stay as they are. With
real count r_g and target share t_g of group g inside the `within` population, the combined size
N = max_g(r_g / t_g) is the smallest at which no group would need fewer than its real rows: the
group that attains the max (the most over-represented one) keeps its real rows and gets no
synthetic rows, and every other group is raised to round(t_g * N) rows (round half up), so
s_g = round(t_g * N) - r_g. Rounding moves an achieved share from its target by at most
0.5 / N per group. Rows outside `within` get no synthetic rows, so they keep their real shares.

Replace mode makes `size` synthetic rows (default: as many as the training rows). The `within`
population gets its real share of `size`, split by the target shares. The rows outside are split
by their real shares, per group and per value of the `within` columns. Both splits use the
largest-remainder method, so the counts sum exactly to their totals.
"""

import itertools
import json
import logging
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from equisynth.errors import ConfigError
from equisynth.rebalance.spec import RebalanceSpec, WithinCondition
from equisynth.rebalance.targets import Group, explicit_shares, group_label, parity_shares, reference_shares

log = logging.getLogger(__name__)

PLAN_COLUMNS = [
    "group_label", "attributes_json", "real_count", "real_share", "target_share",
    "synthetic_rows", "achieved_share", "warning",
]


@dataclass
class RebalancePlan:
    """The plan per group (`groups`, with the columns of ml.rebalance_plans) and the counts to generate.

    `counts` has one column per `by` attribute and per `within` column, and `count`: the rows
    the generator must produce for that combination (only combinations with count > 0).
    """

    spec: RebalanceSpec
    groups: pd.DataFrame
    counts: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def synthetic_rows(self) -> int:
        return int(self.counts["count"].sum()) if len(self.counts) else 0


def categorical_columns(rows: pd.DataFrame, max_levels: int = 50) -> list[str]:
    """Columns usable in `by`: text or boolean columns, and integer columns with few levels (flags)."""
    names = []
    for name in rows.columns:
        series = rows[name]
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_object_dtype(series) or isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(series):
            names.append(name)
        elif pd.api.types.is_integer_dtype(series) and series.nunique() <= 2:
            names.append(name)
    return [name for name in names if series_levels(rows[name]) <= max_levels]


def series_levels(series: pd.Series) -> int:
    return int(series.nunique(dropna=False))


def check_attributes(spec: RebalanceSpec, rows: pd.DataFrame, allowed: list[str]) -> None:
    """Raise ConfigError when a `by` attribute or a `within` column is unknown."""
    for attribute in spec.by:
        if attribute in rows.columns and attribute not in allowed:
            raise ConfigError(
                f"Invalid rebalancing spec: by = {spec.by}: {attribute!r} is not a condition column of the model, "
                f"so rows of its groups cannot be requested exactly. Allowed values: {', '.join(sorted(allowed))}. "
                "To use it, set `condition: true` in its meta in mm_admission_features.yml and train again."
            )
        if attribute not in allowed or attribute not in rows.columns:
            raise ConfigError(
                f"Invalid rebalancing spec: by = {spec.by}: unknown attribute {attribute!r}. "
                f"Allowed values: {', '.join(sorted(allowed))}."
            )
    for condition in spec.within_conditions:
        if condition.column not in allowed or condition.column not in rows.columns:
            raise ConfigError(
                f"Invalid rebalancing spec: within = {spec.within!r}: unknown column {condition.column!r}. "
                f"Allowed values: {', '.join(sorted(allowed))}."
            )
        if condition.column in spec.by:
            raise ConfigError(
                f"Invalid rebalancing spec: within = {spec.within!r} restricts {condition.column!r}, "
                f"which is also in by = {spec.by}. Remove it from one of the two."
            )


def _matches(series: pd.Series, condition: WithinCondition) -> pd.Series:
    value = condition.value
    if pd.api.types.is_numeric_dtype(series) and isinstance(value, (int, float)) and not isinstance(value, bool):
        equal = series == value
    else:
        equal = series.astype(str) == str(value)
    return ~equal if condition.negated else equal


def within_mask(rows: pd.DataFrame, spec: RebalanceSpec) -> pd.Series:
    mask = pd.Series(True, index=rows.index)
    for condition in spec.within_conditions:
        mask &= _matches(rows[condition.column], condition)
    return mask


def largest_remainder(total: int, weights: dict, order: list | None = None) -> dict:
    """Split the integer `total` in proportion to `weights`, summing exactly to `total`.

    Ties in the remainders go to the key that comes first in `order` (default: insertion order).
    """
    keys = order or list(weights)
    weight_sum = sum(weights[key] for key in keys)
    if total <= 0 or weight_sum <= 0:
        return {key: 0 for key in keys}
    exact = {key: total * weights[key] / weight_sum for key in keys}
    counts = {key: math.floor(exact[key]) for key in keys}
    remaining = total - sum(counts.values())
    by_remainder = sorted(keys, key=lambda key: (-(exact[key] - counts[key]), keys.index(key)))
    for key in by_remainder[:remaining]:
        counts[key] += 1
    return counts


def _round_half_up(value: float) -> int:
    # The epsilon keeps t * N that should be an integer (e.g. 2.9999999996) from losing a row.
    return int(math.floor(value + 0.5 + 1e-9))


def _group_domain(rows: pd.DataFrame, inside: pd.Series, spec: RebalanceSpec) -> tuple[list[Group], list[Group]]:
    """Groups seen inside `within`, and every combination of values seen in the training rows."""
    observed = rows.loc[inside, spec.by].drop_duplicates()
    observed_groups = sorted((tuple(row) for row in observed.itertuples(index=False)), key=lambda g: tuple(map(str, g)))
    levels = [sorted(rows[name].dropna().unique().tolist(), key=str) for name in spec.by]
    full = [tuple(values) for values in itertools.product(*levels)]
    return observed_groups, full


def _target_shares(spec: RebalanceSpec, observed: list[Group], full: list[Group], warnings: list[str]) -> dict[Group, float]:
    domain = full if spec.allow_empty_groups else observed
    if spec.target == "parity":
        return parity_shares(domain)
    if spec.target == "explicit":
        shares = explicit_shares(spec.shares, spec.by, full)
    else:
        shares = reference_shares(spec.reference_csv, spec.by, full)

    observed_set = set(observed)
    empty = [group for group, share in shares.items() if share > 0 and group not in observed_set]
    if empty and not spec.allow_empty_groups:
        labels = ", ".join(repr(group_label(group)) for group in empty)
        if spec.target == "explicit":
            raise ConfigError(
                f"Invalid rebalancing spec: shares name group(s) {labels} with no real rows inside "
                f"within = {spec.within!r}. Set allow_empty_groups = true to generate them from the "
                "model alone, or remove them from `shares`."
            )
        warnings.append(
            f"Reference group(s) {labels} have no real rows and are left out (their shares are spread "
            "over the other groups); set allow_empty_groups = true to generate them."
        )
        shares = {group: share for group, share in shares.items() if group in observed_set}
        total = sum(shares.values())
        if total <= 0:
            raise ConfigError("Invalid rebalancing spec: no group of the reference CSV has real rows.")
        shares = {group: share / total for group, share in shares.items()}

    return {group: shares.get(group, 0.0) for group in sorted(set(shares) | observed_set, key=lambda g: tuple(map(str, g)))}


def _augment_counts(real: dict[Group, int], targets: dict[Group, float], spec: RebalanceSpec) -> dict[Group, int]:
    without_share = [group for group, count in real.items() if count > 0 and targets.get(group, 0.0) == 0.0]
    if without_share:
        labels = ", ".join(repr(group_label(group)) for group in without_share)
        raise ConfigError(
            f"Invalid rebalancing spec: group(s) {labels} have real rows but a target share of 0. "
            "Augment mode never removes real rows: give every group a share, or use mode = 'replace'."
        )
    combined_size = max(real.get(group, 0) / share for group, share in targets.items() if share > 0)
    if combined_size == 0:
        raise ConfigError("Invalid rebalancing spec: the groups to rebalance have no real rows; augment mode needs real rows.")
    return {group: max(_round_half_up(share * combined_size) - real.get(group, 0), 0) for group, share in targets.items()}


def plan_rebalance(rows: pd.DataFrame, spec: RebalanceSpec, allowed_attributes: list[str] | None = None) -> RebalancePlan:
    """Plan synthetic rows per group over the real training rows `rows` (one row per admission).

    `allowed_attributes` lists the columns usable in `by` and `within` (default: the categorical
    columns of `rows`). Raises ConfigError on an unknown attribute, a spec that matches no row,
    or targets that augment mode cannot meet; nothing is written.
    """
    allowed = allowed_attributes if allowed_attributes is not None else categorical_columns(rows)
    check_attributes(spec, rows, allowed)
    if rows.empty:
        raise ConfigError("Cannot plan rebalancing: there are no real training rows.")

    inside = within_mask(rows, spec)
    if not inside.any():
        raise ConfigError(f"Invalid rebalancing spec: within = {spec.within!r} matches none of the {len(rows)} training rows.")

    warnings: list[str] = []
    observed, full = _group_domain(rows, inside, spec)
    targets = _target_shares(spec, observed, full, warnings)
    inside_rows = rows.loc[inside]
    real = {group: 0 for group in targets}
    for group, count in inside_rows.groupby(spec.by, dropna=False, sort=False).size().items():
        real[group if isinstance(group, tuple) else (group,)] = int(count)
    real_total = sum(real.values())

    if spec.mode == "augment":
        synthetic = _augment_counts(real, targets, spec)
        achieved_base = {group: real[group] + synthetic[group] for group in targets}
    else:
        size = spec.size or len(rows)
        inside_size = _round_half_up(size * len(inside_rows) / len(rows))
        synthetic = largest_remainder(inside_size, targets)
        achieved_base = dict(synthetic)

    achieved_total = sum(achieved_base.values())
    plan_rows = []
    for group, share in targets.items():
        if real[group] == 0 and synthetic[group] == 0 and share == 0:
            continue
        plan_rows.append({
            "group_label": group_label(group),
            "attributes_json": json.dumps(dict(zip(spec.by, map(_plain, group)))),
            "real_count": real[group],
            "real_share": real[group] / real_total if real_total else 0.0,
            "target_share": share,
            "synthetic_rows": synthetic[group],
            "achieved_share": achieved_base[group] / achieved_total if achieved_total else 0.0,
            "warning": _group_warning(real[group], synthetic[group], spec.min_group_rows),
        })

    counts = _inside_counts(inside_rows, synthetic, spec)
    if spec.mode == "replace" and spec.within_conditions:
        outside_plan, outside_counts = _outside_replace(rows.loc[~inside], (spec.size or len(rows)) - sum(synthetic.values()), spec)
        plan_rows.extend(outside_plan)
        counts = pd.concat([counts, outside_counts], ignore_index=True)

    groups = pd.DataFrame(plan_rows, columns=PLAN_COLUMNS)
    warnings.extend(f"{row.group_label}: {row.warning}" for row in groups.itertuples() if isinstance(row.warning, str))
    for message in warnings:
        log.warning("Rebalancing plan: %s", message)
    counts = counts.loc[counts["count"] > 0].reset_index(drop=True)
    return RebalancePlan(spec=spec, groups=groups, counts=counts, warnings=warnings)


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _group_warning(real_count: int, synthetic_rows: int, min_group_rows: int) -> str | None:
    if real_count == 0 and synthetic_rows > 0:
        return "no real rows: its synthetic rows come from the model's conditional alone"
    if real_count < min_group_rows and synthetic_rows > 0:
        return f"only {real_count} real rows (fewer than {min_group_rows}): its {synthetic_rows} synthetic rows rest on very little data"
    return None


def _within_columns(spec: RebalanceSpec) -> list[str]:
    return list(dict.fromkeys(condition.column for condition in spec.within_conditions))


def _inside_counts(inside_rows: pd.DataFrame, synthetic: dict[Group, int], spec: RebalanceSpec) -> pd.DataFrame:
    """Spread each group's synthetic rows over the `within` column values seen in that group.

    With `column = value` terms there is one such combination per group. A `!=` term leaves
    several, split by their real frequencies in the group, or in the whole `within` population
    for a group with no real rows.
    """
    within_columns = _within_columns(spec)
    columns = spec.by + within_columns + ["count"]
    records = []
    overall = _combination_weights(inside_rows, within_columns) if within_columns else {}
    for group, count in synthetic.items():
        if count == 0:
            continue
        if not within_columns:
            records.append((*group, count))
            continue
        in_group = inside_rows
        for name, value in zip(spec.by, group):
            in_group = in_group.loc[in_group[name] == value]
        weights = _combination_weights(in_group, within_columns) if len(in_group) else overall
        for combination, split in largest_remainder(count, weights).items():
            records.append((*group, *combination, split))
    return pd.DataFrame(records, columns=columns)


def _combination_weights(rows: pd.DataFrame, columns: list[str]) -> dict[tuple, int]:
    sizes = rows.groupby(columns, dropna=False, sort=True).size()
    return {(key if isinstance(key, tuple) else (key,)): int(size) for key, size in sizes.items()}


def _outside_replace(outside_rows: pd.DataFrame, size: int, spec: RebalanceSpec) -> tuple[list[dict], pd.DataFrame]:
    """Split replace-mode rows outside `within` by the real shares of (by + within columns) there."""
    keys = spec.by + _within_columns(spec)
    weights = _combination_weights(outside_rows, keys) if len(outside_rows) else {}
    split = largest_remainder(size, weights)
    total_real = sum(weights.values())
    plan_rows, records = [], []
    for combination, count in split.items():
        group, within_values = combination[: len(spec.by)], combination[len(spec.by):]
        condition_text = ", ".join(f"{name} = {value}" for name, value in zip(_within_columns(spec), within_values))
        real_share = weights[combination] / total_real
        plan_rows.append({
            "group_label": f"{group_label(group)} [outside within: {condition_text}]",
            "attributes_json": json.dumps(dict(zip(keys, map(_plain, combination)))),
            "real_count": weights[combination],
            "real_share": real_share,
            "target_share": real_share,
            "synthetic_rows": count,
            "achieved_share": count / size if size else 0.0,
            "warning": None,
        })
        records.append((*combination, count))
    return plan_rows, pd.DataFrame(records, columns=keys + ["count"])


REBALANCE_PLANS_DDL = """
create table if not exists ml.rebalance_plans (
    generation_id varchar not null,
    group_label varchar not null,
    attributes_json varchar not null,
    real_count bigint not null,
    real_share double not null,
    target_share double not null,
    synthetic_rows bigint not null,
    achieved_share double not null,
    warning varchar
)
"""


def write_plan(con, generation_id: str, plan: RebalancePlan) -> None:
    """Store the plan in ml.rebalance_plans, replacing any earlier plan of the generation."""
    frame = plan.groups.assign(generation_id=generation_id)[["generation_id", *PLAN_COLUMNS]]
    frame = frame.astype({"warning": object}).where(frame.notna(), None)
    con.execute("create schema if not exists ml")
    con.execute(REBALANCE_PLANS_DDL)
    con.register("plan_rows", frame)
    con.execute("begin transaction")
    try:
        con.execute("delete from ml.rebalance_plans where generation_id = ?", [generation_id])
        con.execute(f"insert into ml.rebalance_plans select {', '.join(['generation_id', *PLAN_COLUMNS])} from plan_rows")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.unregister("plan_rows")


def format_plan(plan: RebalancePlan) -> str:
    """Format the plan as a plain-text table, for logs and terminals without rich."""
    table = plan.groups.copy()
    for column in ("real_share", "target_share", "achieved_share"):
        table[column] = table[column].map(lambda share: f"{share:.3f}")
    table["warning"] = table["warning"].fillna("")
    columns = table[["group_label", "real_count", "real_share", "target_share", "synthetic_rows", "achieved_share", "warning"]]
    return columns.to_string(index=False) + f"\n{plan.synthetic_rows} synthetic rows in total ({plan.spec.mode} mode)."
