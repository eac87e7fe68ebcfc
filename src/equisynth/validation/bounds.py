"""Distribution bounds for a synthetic mart, derived from the real training rows of the mart.

Three kinds of bound, each turned into Great Expectations expectations:
- continuous columns: the 25th, 50th and 75th percentiles within `quantile_tolerance` times
  the real interquartile range of the real percentile, widened to the sampling error where
  that is larger (see `quantile_bounds`);
- categorical and binary columns: each value's share within max(`share_tolerance`,
  z * sqrt(p(1-p)/n_eff + p(1-p)/n_synthetic)) of its real share p (a computed 0/1 column per
  value, whose mean is the share), where n_eff is Kish's effective size of the reference;
- categorical columns: no value outside the real domain.

`reference.bounds_reference` selects the real rows (and their weights) that the bounds come from.
"""

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.special import ndtri

from equisynth.paths import DBT_PROJECT_DIR
from equisynth.validation.reference import BoundsReference
from equisynth.validation.reweighting import kish_effective_size, weighted_quantiles

log = logging.getLogger(__name__)

QUANTILES = (0.25, 0.5, 0.75)
MART_YML = DBT_PROJECT_DIR / "models" / "marts" / "mm_admission_features.yml"

# Condition columns a generator takes as input when the mart yml is not available.
DEFAULT_CONDITION_COLUMNS = ("ethnicity_group", "insurance", "gender", "age_band", "multimorbid")


@dataclass
class Bound:
    """One bound on a synthetic mart column, with the reference value it was derived from.

    `real_value` is the value of the reference (post-stratified where the generation is
    rebalanced) and `unweighted_value` the plain value of the real training rows. `tolerance` is
    the larger distance from `real_value` to a bound, and `tolerance_source` names what set it:
    the fixed tolerance or the sampling error.
    """

    column_name: str
    statistic: str  # "q25", "q50", "q75", "share" or "domain"
    category: str | None
    real_value: float | None
    lower_bound: float | None
    upper_bound: float | None
    domain: list[str] | None = None
    unweighted_value: float | None = None
    tolerance: float | None = None
    tolerance_source: str | None = None
    n_eff: float | None = None
    n_synthetic: int | None = None


def column_kinds(mart: pd.DataFrame, yml_path: Path = MART_YML) -> tuple[dict[str, str], set[str]]:
    """Return each mart column's kind and the condition columns, from the column `meta` in the mart yml.

    Columns that the yml does not describe get a kind inferred from their values: text is
    categorical, integers that are only 0 or 1 are binary, other integers are counts and
    floating-point numbers are continuous.
    """
    kinds: dict[str, str] = {}
    conditions: set[str] = set()
    if yml_path.exists():
        document = yaml.safe_load(yml_path.read_text(encoding="utf-8")) or {}
        for model in document.get("models", []):
            if model.get("name") != "mm_admission_features":
                continue
            for column in model.get("columns", []):
                meta = column.get("meta") or (column.get("config") or {}).get("meta") or {}
                if "kind" in meta:
                    kinds[column["name"]] = meta["kind"]
                if meta.get("condition"):
                    conditions.add(column["name"])
    else:
        log.warning("Mart column roles not found at %s; inferring column kinds from the values.", yml_path)
        conditions = set(DEFAULT_CONDITION_COLUMNS)

    for name in mart.columns:
        if name in kinds:
            continue
        kinds[name] = infer_kind(name, mart[name])
    return kinds, conditions


def infer_kind(name: str, values: pd.Series) -> str:
    if name in ("subject_id", "hadm_id"):
        return "id"
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
        return "categorical" if not pd.api.types.is_bool_dtype(values) else "binary"
    non_null = values.dropna()
    if pd.api.types.is_float_dtype(values) and not (non_null == non_null.round()).all():
        return "continuous"
    if non_null.isin([0, 1]).all():
        return "binary"
    return "count"

def derive_bounds(
    reference: pd.DataFrame,
    kinds: dict[str, str],
    info: BoundsReference,
    quantile_tolerance: float,
    share_tolerance: float,
    z: float = 3.0,
    false_alarm_rate: float | None = None,
) -> list[Bound]:
    """Compute the bounds of every continuous, categorical and binary mart column.

    With `false_alarm_rate`, `z` is raised where needed so that a generator drawing from the real
    distribution itself fails any of the bounds' sampling-error margins with at most that
    probability (Bonferroni over the number of shares and quartiles bounded): with about 350
    checks at a fixed z = 3, about one would fail by chance alone.
    """
    if false_alarm_rate is not None:
        z = max(z, family_z(count_checks(reference, kinds, info), false_alarm_rate))
    weights = info.weights.weights if info.weights is not None else np.full(len(reference), 1.0 / max(len(reference), 1))
    synthetic_rows = info.synthetic_rows or {}
    bounds: list[Bound] = []
    for column in reference.columns:
        kind = kinds.get(column)
        values = reference[column]
        present = values.notna().to_numpy()
        if kind in ("continuous", "categorical") and present.any() and weights[present].sum() <= 0:
            # Possible after post-stratification: every real row with a value is in a stratum the synthetic rows lack.
            info.excluded_columns.setdefault(column, "no real row with a value keeps a positive weight after post-stratification")

        if kind == "continuous" and column not in info.excluded_columns and present.any():
            bounds.extend(
                quantile_bounds(
                    column, values[present].astype(float), quantile_tolerance,
                    weights=weights[present], z=z, n_synthetic=synthetic_rows.get(column),
                )
            )

        if kind == "categorical":
            domain = sorted({str(v) for v in values.dropna()} | set(info.extra_domain.get(column, [])))
            bounds.append(Bound(column, "domain", None, None, None, None, domain=domain))

        if kind not in ("categorical", "binary") or column in info.excluded_columns:
            continue

        if kind == "binary":
            # The share of 0 is 1 minus the share of 1, so only 1 is bounded, also where no real row has it.
            # Missing values count as "not 1", as in the synthetic 0/1 column.
            indicators = {"1": (values == 1).fillna(False).to_numpy(dtype=bool)}
            share_weights = weights
        else:
            labels = values[present].astype(str)
            indicators = {category: (labels == category).to_numpy() for category in sorted(labels.unique())}
            share_weights = weights[present]

        for category, indicator in indicators.items():
            bounds.append(
                share_bound(column, str(category), indicator, share_weights, share_tolerance, z, synthetic_rows.get("*"))
            )
    return bounds


def count_checks(reference: pd.DataFrame, kinds: dict[str, str], info: BoundsReference) -> int:
    """Return the number of quartile and share bounds `derive_bounds` makes for `reference`."""
    checks = 0
    for column in reference.columns:
        kind = kinds.get(column)
        if column in info.excluded_columns:
            continue
        if kind == "continuous":
            checks += len(QUANTILES)
        elif kind == "binary":
            checks += 1
        elif kind == "categorical":
            checks += int(reference[column].dropna().astype(str).nunique())
    return max(checks, 1)


def family_z(checks: int, false_alarm_rate: float) -> float:
    """Return the two-sided normal quantile that keeps the chance of any false alarm over `checks` tests at the rate."""
    return float(ndtri(1.0 - false_alarm_rate / (2 * checks)))


def sampling_margin(p: float, n_eff: float, n_synthetic: int | None, z: float) -> float:
    """Return z standard errors of the difference between a synthetic and a reference share p.

    NOTE: this normal approximation understates the sampling error of shares near 0 or 1 in a
    small reference, so the fixed share_tolerance is the floor of every share bound.
    """
    variance = p * (1 - p) / n_eff if n_eff > 0 else 0.0
    if n_synthetic:
        variance += p * (1 - p) / n_synthetic
    return z * float(np.sqrt(variance))


def share_bound(
    column: str,
    category: str,
    indicator: np.ndarray,
    weights: np.ndarray,
    tolerance: float,
    z: float,
    n_synthetic: int | None,
) -> Bound:
    """Bound the share of one category: max(tolerance, z standard errors) around the weighted reference share."""
    indicator = np.asarray(indicator, dtype=bool)
    weights = np.asarray(weights, dtype=float)
    share = float(np.sum(weights[indicator]) / np.sum(weights)) if np.sum(weights) > 0 else 0.0
    unweighted = float(indicator.mean()) if indicator.size else 0.0
    n_eff = kish_effective_size(weights)
    sampling = sampling_margin(share, n_eff, n_synthetic, z)
    margin = max(tolerance, sampling)
    return Bound(
        column,
        "share",
        category,
        round(share, 6),
        round(max(0.0, share - margin), 6),
        round(min(1.0, share + margin), 6),
        unweighted_value=round(unweighted, 6),
        tolerance=round(margin, 6),
        tolerance_source=f"sampling error (z = {z:.3g})" if sampling > tolerance else "share_tolerance",
        n_eff=round(n_eff, 2),
        n_synthetic=n_synthetic,
    )


def quantile_bounds(
    column: str,
    values: pd.Series,
    tolerance: float,
    weights: np.ndarray | None = None,
    z: float | None = None,
    n_synthetic: int | None = None,
) -> list[Bound]:
    """Bound the quartiles of one continuous column, scaled by its real spread.

    The fixed margin is `tolerance` times the interquartile range. Where that is 0 (a column
    mostly at one value), the scale is the standard deviation, and where that is 0 too, 1 unit.
    With `z`, each quartile p may also lie anywhere between the reference quantiles at
    p - d and p + d, where d = z * sqrt(p(1-p)/n_eff + p(1-p)/n_synthetic) is the sampling error
    of the empirical distribution function at p (Woodruff's interval, for two samples). The
    bound is the wider of the two, so it is never narrower than the fixed margin.
    """
    if values.empty:
        return []
    numbers = values.to_numpy(dtype=float)
    weights = np.ones(len(numbers)) if weights is None else np.asarray(weights, dtype=float)
    quartiles = weighted_quantiles(numbers, weights, list(QUANTILES))
    unweighted = values.quantile(list(QUANTILES)).to_numpy()
    n_eff = kish_effective_size(weights)

    scale = float(quartiles[2] - quartiles[0])
    if scale <= 0:
        mean = np.average(numbers, weights=weights)
        scale = float(np.sqrt(np.average((numbers - mean) ** 2, weights=weights))) or 1.0
    margin = tolerance * scale

    bounds = []
    for q, value, plain in zip(QUANTILES, quartiles, unweighted):
        lower, upper = float(value) - margin, float(value) + margin
        source = "quantile_tolerance x IQR"
        if z is not None:
            spread = sampling_margin(q, n_eff, n_synthetic, z)
            low_q, high_q = weighted_quantiles(numbers, weights, [q - spread, q + spread])
            if low_q < lower or high_q > upper:
                source = f"sampling error (z = {z:.3g})"
            lower, upper = min(lower, float(low_q)), max(upper, float(high_q))
        bounds.append(
            Bound(
                column, f"q{round(q * 100)}", None, round(float(value), 6), round(lower, 6), round(upper, 6),
                unweighted_value=round(float(plain), 6),
                tolerance=round(max(float(value) - lower, upper - float(value)), 6),
                tolerance_source=source,
                n_eff=round(n_eff, 2),
                n_synthetic=n_synthetic,
            )
        )
    return bounds


def share_column(column: str, category: str) -> str:
    """Name of the computed 0/1 column whose mean is the share of `category` in `column`."""
    return f"{column}={category}"


def describe_bounds(bounds: list[Bound]) -> str:
    """Describe in one line what the bounds of one expectation allow and why.

    The line lists the allowed ranges, the reference values (q25/q50/q75 for quartiles), what set
    the tolerance, and the sample sizes.
    """
    allowed = ", ".join(f"[{b.lower_bound:.4g}, {b.upper_bound:.4g}]" for b in bounds)
    reference = "/".join(f"{b.real_value:.4g}" for b in bounds)
    sources = sorted({b.tolerance_source for b in bounds})
    text = f"allowed {allowed} around reference {reference} ({' and '.join(sources)})"
    if any(b.unweighted_value != b.real_value for b in bounds):
        text += ", unweighted real " + "/".join(f"{b.unweighted_value:.4g}" for b in bounds)
    text += f", n_eff {bounds[0].n_eff:.4g}"
    if bounds[0].n_synthetic is not None:
        text += f", {bounds[0].n_synthetic} synthetic rows"
    return text


def bound_expectations(bounds: list[Bound], info: BoundsReference) -> tuple[list[dict], dict[str, str]]:
    """Turn bounds into expectation configurations plus the computed share columns they read.

    Each expectation's `meta` has a `bound` line (see `describe_bounds`), which the results rows
    and the notes in Data Docs show next to the observed value.
    """
    expectations: list[dict] = []
    computed: dict[str, str] = {}
    source = f"real training rows of split {info.split_id}" + (f" with {info.restricted_to}" if info.restricted_to else "")
    if info.weighting:
        source += f", {info.weighting}"

    by_column: dict[str, list[Bound]] = {}
    for bound in bounds:
        by_column.setdefault(bound.column_name, []).append(bound)

    for column, column_bounds in by_column.items():
        quartiles = [b for b in column_bounds if b.statistic.startswith("q")]
        if quartiles:
            summary = describe_bounds(quartiles)
            expectations.append(
                {
                    "type": "expect_column_quantiles_near_reference",
                    "kwargs": {
                        "column": column,
                        "quantile_ranges": {
                            "quantiles": list(QUANTILES),
                            "value_ranges": [[b.lower_bound, b.upper_bound] for b in quartiles],
                        },
                    },
                    "meta": {"real_values": [b.real_value for b in quartiles], "bound": summary},
                    "notes": f"Quartiles within the tolerance of the {source} ({summary}).",
                }
            )

        for bound in column_bounds:
            if bound.statistic == "domain":
                expectations.append(
                    {
                        "type": "expect_column_values_to_be_in_set",
                        "kwargs": {"column": column, "value_set": bound.domain},
                        "notes": f"Only values that occur in the {source}"
                        + (" or in the rebalance plan." if column in info.extra_domain else "."),
                    }
                )
            if bound.statistic == "share":
                name = share_column(column, bound.category)
                literal = bound.category.replace("'", "''")
                computed[name] = f"case when cast(t.{column} as varchar) = '{literal}' then 1.0 else 0.0 end"
                summary = describe_bounds([bound])
                expectations.append(
                    {
                        "type": "expect_column_mean_to_be_between",
                        "kwargs": {"column": name, "min_value": bound.lower_bound, "max_value": bound.upper_bound},
                        "meta": {"real_share": bound.real_value, "bound": summary},
                        "notes": f"Share of {column} = {bound.category} within the tolerance of the {source} ({summary}).",
                    }
                )
    return expectations, computed


def bounds_rows(bounds: list[Bound], info: BoundsReference) -> list[dict]:
    """Rows for quality.distribution_bounds: one per bound, per excluded column and per reweighting stratum."""
    common = dict(
        split_id=info.split_id, reference_rows=info.reference_rows, restricted_to=info.restricted_to, weighting=info.weighting
    )
    rows = []
    for bound in bounds:
        row = asdict(bound)
        row["domain"] = json.dumps(row["domain"]) if row["domain"] is not None else None
        row.update(common)
        rows.append(row)

    for column, reason in sorted(info.excluded_columns.items()):
        rows.append(
            dict(column_name=column, statistic="excluded", category=None, real_value=None, lower_bound=None,
                 upper_bound=None, domain=json.dumps(reason), note=reason, **common)
        )

    if info.weights is not None:
        for stratum in info.weights.strata:
            if stratum.reweighted:
                note = (
                    f"{stratum.real_rows} real rows (share {stratum.real_share:.4f}) weighted to the synthetic share "
                    f"{stratum.synthetic_share:.4f}"
                )
            else:
                note = (
                    f"no real reference rows, so its {stratum.synthetic_rows} synthetic rows "
                    f"(share {stratum.synthetic_share:.4f}) are compared with the unweighted real rows"
                )
            rows.append(
                dict(column_name=",".join(info.weights.columns), statistic="stratum", category=stratum.label,
                     real_value=stratum.real_share, lower_bound=None, upper_bound=None, domain=None,
                     n_synthetic=stratum.synthetic_rows, note=note, **common)
            )
    return rows
