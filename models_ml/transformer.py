"""Reversible encoding of a table into the matrix a generator learns.

Two normalisations of numeric columns:
- `gmm`: mode-specific normalisation (CTGAN, Xu et al. 2019). A Bayesian Gaussian mixture per
  column; a value becomes the one-hot of its mode and a scalar `(v - mean_k) / (4 std_k)`.
- `quantile`: a quantile transform to a standard normal (TabDDPM, Kotelnikov et al. 2023).

Before either, a value moves to a model scale where every output maps back to a valid value:
`log1p` for non-negative columns (lengths of stay, counts), and for a column bound to a band
condition (age inside `age_band`) its position in [0, 1] between the band's bounds. Categorical
and binary columns, and count columns with few distinct values, become one-hot blocks over the
values seen in training, so a generated value always comes from the training domain. Binary
columns that nest in the training data (`cci_chf = 1` only where `elix_chf = 1`) share one block
over the combinations seen (see `nested_flags`), so no generated row breaks the nesting.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture

from models_ml import nested_flags
from models_ml.table_schema import TableSchema

log = logging.getLogger(__name__)

MISSING = "__missing__"
# Count columns with at most this many distinct training values are encoded as categories.
MAX_COUNT_CATEGORIES = 20
MIN_MODE_WEIGHT = 0.005
QUANTILE_EPS = 1e-7


@dataclass(frozen=True)
class Span:
    """A block of the encoded matrix: `numeric` (one scalar), `mode` or `categorical` (one-hot)."""

    column: str
    kind: str
    start: int
    size: int

    @property
    def stop(self) -> int:
        return self.start + self.size


@dataclass(frozen=True)
class BandSpec:
    """A numeric column kept inside the bounds of a band condition (age inside age_band)."""

    condition: str
    bounds: dict[str, tuple[float, float]]

    def bounds_for(self, band_values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        missing = sorted(set(band_values.astype(str)) - set(self.bounds))
        if missing:
            raise ValueError(f"{self.condition}: no bounds for value(s) {missing}")
        low = band_values.astype(str).map(lambda v: self.bounds[v][0]).to_numpy(float)
        high = band_values.astype(str).map(lambda v: self.bounds[v][1]).to_numpy(float)
        return low, high


class DataTransformer:
    """Encode generated columns to a float matrix and decode a generated matrix back.

    `fit` is deterministic for a given `seed` (the mixture and the mode draws are seeded).
    """

    def __init__(self, method: str = "gmm", max_modes: int = 10, seed: int = 0) -> None:
        if method not in ("gmm", "quantile"):
            raise ValueError(f"method must be 'gmm' or 'quantile', not {method!r}")
        self.method = method
        self.max_modes = max_modes
        self.seed = seed
        self.columns: list[dict] = []
        self.spans: list[Span] = []
        self.bands: dict[str, BandSpec] = {}

    # ---- fitting ----------------------------------------------------------------------------

    def fit(self, table: pd.DataFrame, schema: TableSchema, bands: dict[str, BandSpec] | None = None) -> "DataTransformer":
        self.bands = dict(bands or {})
        self.columns = []
        for name in schema.generated_columns:
            kind = schema[name].kind
            series = table[name]
            if kind in ("categorical", "binary") or (kind == "count" and series.nunique(dropna=True) <= MAX_COUNT_CATEGORIES):
                self.columns.append(self._fit_categorical(name, kind, series))
            else:
                self.columns.append(self._fit_numeric(name, kind, series, table))
        self._group_nested_flags(table)
        self._layout()
        log.debug("transformer (%s) fitted: %d columns, %d encoded dimensions", self.method, len(self.columns), self.output_dim)
        return self

    def _group_nested_flags(self, table: pd.DataFrame) -> None:
        """Replace the columns of each nested group by one categorical column over their combinations."""
        binary = [info["name"] for info in self.columns if info["type"] == "categorical" and info["kind"] == "binary"]
        for members in nested_flags.nested_groups(table, binary):
            codes = sorted(set(nested_flags.encode(table, members).tolist()))
            first = next(i for i, info in enumerate(self.columns) if info["name"] in members)
            self.columns = [info for info in self.columns if info["name"] not in members]
            self.columns.insert(first, {
                "name": "+".join(members), "type": "categorical", "kind": "binary",
                "members": members, "categories": codes, "numeric": True,
            })
            log.debug("encoding nested flags %s as one column with %d combinations", members, len(codes))

    def _fit_categorical(self, name: str, kind: str, series: pd.Series) -> dict:
        values = _category_values(series)
        categories = sorted(set(values), key=lambda v: (v == MISSING, str(v)))
        numeric = kind in ("binary", "count") and MISSING not in categories
        return {"name": name, "type": "categorical", "kind": kind, "categories": categories, "numeric": numeric}

    def _fit_numeric(self, name: str, kind: str, series: pd.Series, table: pd.DataFrame) -> dict:
        values = pd.to_numeric(series, errors="coerce").to_numpy(float)
        present = ~np.isnan(values)
        if not present.any():
            raise ValueError(f"column {name} has no non-missing values to learn from")
        observed = values[present]
        info = {
            "name": name,
            "type": "numeric",
            "kind": kind,
            "min": float(observed.min()),
            "max": float(observed.max()),
            "integer": bool(np.all(np.equal(np.mod(observed, 1), 0))),
            "has_missing": bool((~present).any()),
            "scale": "band" if name in self.bands else ("log1p" if observed.min() >= 0 else "identity"),
        }
        scaled = self._to_model_scale(info, values, table)[present]

        if self.method == "gmm":
            info.update(self._fit_mixture(scaled))
        else:
            info.update(_fit_quantiles(scaled, self.seed))
        return info

    def _fit_mixture(self, scaled: np.ndarray) -> dict:
        n_components = int(min(self.max_modes, max(1, len(np.unique(scaled)))))
        mixture = BayesianGaussianMixture(
            n_components=n_components,
            weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=0.001,
            max_iter=200,
            n_init=1,
            random_state=self.seed,
        )
        with warnings.catch_warnings():
            # Few distinct values (ages, short stays) often stop EM before its tolerance; the fit is still usable.
            warnings.simplefilter("ignore", ConvergenceWarning)
            mixture.fit(scaled.reshape(-1, 1))
        keep = mixture.weights_ > MIN_MODE_WEIGHT
        if not keep.any():
            keep = mixture.weights_ == mixture.weights_.max()
        return {
            "means": mixture.means_.reshape(-1)[keep].tolist(),
            "stds": np.sqrt(mixture.covariances_.reshape(-1))[keep].clip(min=1e-3).tolist(),
            "weights": (mixture.weights_[keep] / mixture.weights_[keep].sum()).tolist(),
        }

    def _layout(self) -> None:
        spans, start = [], 0
        for info in self.columns:
            name = info["name"]
            if info["type"] == "categorical":
                spans.append(Span(name, "categorical", start, len(info["categories"])))
                start += len(info["categories"])
                continue
            spans.append(Span(name, "numeric", start, 1))
            start += 1
            if self.method == "gmm":
                spans.append(Span(name, "mode", start, len(info["means"])))
                start += len(info["means"])
            if info["has_missing"]:
                spans.append(Span(name, "missing", start, 2))
                start += 2
        self.spans = spans

    @property
    def output_dim(self) -> int:
        return self.spans[-1].stop if self.spans else 0

    def spans_of_kind(self, *kinds: str) -> list[Span]:
        return [span for span in self.spans if span.kind in kinds]

    # ---- model scale --------------------------------------------------------------------------

    def _to_model_scale(self, info: dict, values: np.ndarray, table: pd.DataFrame) -> np.ndarray:
        if info["scale"] == "band":
            band = self.bands[info["name"]]
            low, high = band.bounds_for(table[band.condition])
            width = np.where(high > low, high - low, 1.0)
            return np.clip((values - low) / width, 0.0, 1.0)
        if info["scale"] == "log1p":
            return np.log1p(np.clip(values, 0.0, None))
        return values

    def _from_model_scale(self, info: dict, scaled: np.ndarray, conditions: pd.DataFrame) -> np.ndarray:
        if info["scale"] == "band":
            band = self.bands[info["name"]]
            low, high = band.bounds_for(conditions[band.condition])
            values = low + np.clip(scaled, 0.0, 1.0) * (high - low)
            if info["integer"]:
                values = np.clip(np.round(values), np.ceil(low), np.floor(high))
            return values
        if info["scale"] == "log1p":
            values = np.expm1(np.clip(scaled, None, 50.0))
        else:
            values = scaled
        values = np.clip(values, info["min"], info["max"])
        if info["integer"]:
            values = np.round(values)
        return values

    # ---- encoding ------------------------------------------------------------------------------

    def transform(self, table: pd.DataFrame) -> np.ndarray:
        """Encode `table` (generated columns plus the band conditions) to a float32 matrix (rows, output_dim)."""
        rng = np.random.default_rng(self.seed)
        matrix = np.zeros((len(table), self.output_dim), dtype=np.float32)
        spans = {(span.column, span.kind): span for span in self.spans}
        for info in self.columns:
            name = info["name"]
            if info["type"] == "categorical":
                span = spans[(name, "categorical")]
                values = nested_flags.encode(table, info["members"]) if "members" in info else table[name]
                index = _category_index(info, values)
                matrix[np.arange(len(table)), span.start + index] = 1.0
                continue

            values = pd.to_numeric(table[name], errors="coerce").to_numpy(float)
            present = ~np.isnan(values)
            scaled = self._to_model_scale(info, np.where(present, values, info["min"]), table)
            numeric = spans[(name, "numeric")]
            if self.method == "gmm":
                mode_span = spans[(name, "mode")]
                alpha, mode = _mixture_encode(info, scaled, rng)
                matrix[:, numeric.start] = alpha
                matrix[np.arange(len(table)), mode_span.start + mode] = 1.0
            else:
                matrix[:, numeric.start] = _quantile_encode(info, scaled)
            if info["has_missing"]:
                missing_span = spans[(name, "missing")]
                matrix[np.arange(len(table)), missing_span.start + (~present).astype(int)] = 1.0
        return matrix

    def inverse_transform(self, matrix: np.ndarray, conditions: pd.DataFrame) -> pd.DataFrame:
        """Decode a generated matrix; one-hot blocks may contain probabilities (argmax is taken).

        `conditions` contains the band conditions of each row (age_band for age).
        """
        spans = {(span.column, span.kind): span for span in self.spans}
        decoded: dict[str, object] = {}
        for info in self.columns:
            name = info["name"]
            if info["type"] == "categorical":
                span = spans[(name, "categorical")]
                index = matrix[:, span.start:span.stop].argmax(axis=1)
                if "members" in info:
                    codes = np.asarray(info["categories"], dtype=np.int64)[index]
                    decoded.update(nested_flags.decode(codes, info["members"]))
                else:
                    decoded[name] = _category_series(info, index)
                continue

            numeric = spans[(name, "numeric")]
            if self.method == "gmm":
                mode_span = spans[(name, "mode")]
                mode = matrix[:, mode_span.start:mode_span.stop].argmax(axis=1)
                scaled = _mixture_decode(info, matrix[:, numeric.start], mode)
            else:
                scaled = _quantile_decode(info, matrix[:, numeric.start])
            values = self._from_model_scale(info, scaled, conditions)
            if info["has_missing"]:
                missing_span = spans[(name, "missing")]
                is_missing = matrix[:, missing_span.start:missing_span.stop].argmax(axis=1) == 1
                values = np.where(is_missing, np.nan, values)
            if info["integer"] and not info["has_missing"]:
                decoded[name] = values.astype(np.int64)
            else:
                decoded[name] = values
        return pd.DataFrame(decoded, index=conditions.index if len(conditions) == len(matrix) else None)

    def probability_of(self, probability: np.ndarray, column: str, value) -> np.ndarray:
        """Return P(column = value) per row from generated one-hot probabilities (rows, output_dim)."""
        spans = {span.column: span for span in self.spans_of_kind("categorical")}
        for info in self.columns:
            if info["type"] != "categorical":
                continue
            block = probability[:, spans[info["name"]].start:spans[info["name"]].stop]
            if info["name"] == column and value in info["categories"]:
                return block[:, info["categories"].index(value)]
            if column in info.get("members", []):
                bit = info["members"].index(column)
                chosen = [(code >> bit) & 1 == value for code in info["categories"]]
                return block[:, np.flatnonzero(chosen)].sum(axis=1)
        return np.zeros(len(probability))

    # ---- persistence ----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "max_modes": self.max_modes,
            "seed": self.seed,
            "columns": [_jsonable(info) for info in self.columns],
            "bands": {
                name: {"condition": band.condition, "bounds": {k: list(v) for k, v in band.bounds.items()}}
                for name, band in self.bands.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict) -> "DataTransformer":
        transformer = cls(method=data["method"], max_modes=data["max_modes"], seed=data["seed"])
        transformer.columns = [dict(info) for info in data["columns"]]
        transformer.bands = {
            name: BandSpec(band["condition"], {k: (float(v[0]), float(v[1])) for k, v in band["bounds"].items()})
            for name, band in data["bands"].items()
        }
        transformer._layout()
        return transformer


# ---- helpers ------------------------------------------------------------------------------------

def _category_values(series: pd.Series) -> list:
    """Values of a categorical column as Python scalars, with missing values as MISSING."""
    values = series.astype(object).where(series.notna(), MISSING)
    return [_python_scalar(value) for value in values]


def _python_scalar(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _category_index(info: dict, series: pd.Series) -> np.ndarray:
    lookup = {category: position for position, category in enumerate(info["categories"])}
    values = _category_values(series)
    unknown = sorted({str(value) for value in values if value not in lookup})
    if unknown:
        raise ValueError(f"column {info['name']}: value(s) {unknown} were not in the training data")
    return np.fromiter((lookup[value] for value in values), dtype=np.int64, count=len(values))


def _category_series(info: dict, index: np.ndarray) -> pd.Series:
    categories = np.array(info["categories"], dtype=object)
    values = categories[index]
    if info["numeric"]:
        return pd.Series(values.astype(np.int64))
    return pd.Series(np.where(values == MISSING, None, values), dtype=object)


def _mixture_encode(info: dict, scaled: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw each value's mode from its posterior and normalise within the mode (CTGAN)."""
    means = np.asarray(info["means"])
    stds = np.asarray(info["stds"])
    weights = np.asarray(info["weights"])
    z = (scaled[:, None] - means[None, :]) / stds[None, :]
    log_density = np.log(weights)[None, :] - 0.5 * z**2 - np.log(stds)[None, :]
    log_density -= log_density.max(axis=1, keepdims=True)
    posterior = np.exp(log_density)
    posterior /= posterior.sum(axis=1, keepdims=True)
    draws = rng.random(len(scaled))[:, None]
    mode = (posterior.cumsum(axis=1) < draws).sum(axis=1).clip(max=len(means) - 1)
    alpha = np.clip((scaled - means[mode]) / (4 * stds[mode]), -0.99, 0.99)
    return alpha, mode


def _mixture_decode(info: dict, alpha: np.ndarray, mode: np.ndarray) -> np.ndarray:
    means = np.asarray(info["means"])
    stds = np.asarray(info["stds"])
    return np.clip(alpha, -1.0, 1.0) * 4 * stds[mode] + means[mode]


def _fit_quantiles(scaled: np.ndarray, seed: int) -> dict:
    n_quantiles = int(min(1000, max(10, len(scaled))))
    references = np.linspace(0.0, 1.0, n_quantiles)
    quantiles = np.quantile(scaled, references)
    quantiles = np.maximum.accumulate(quantiles)
    return {"quantiles": quantiles.tolist(), "references": references.tolist()}


def _quantile_encode(info: dict, scaled: np.ndarray) -> np.ndarray:
    """Map to a standard normal through the empirical CDF, averaging both sides of ties (as sklearn does)."""
    quantiles = np.asarray(info["quantiles"])
    references = np.asarray(info["references"])
    forward = np.interp(scaled, quantiles, references)
    backward = -np.interp(-scaled, -quantiles[::-1], -references[::-1])
    cdf = np.clip(0.5 * (forward + backward), QUANTILE_EPS, 1 - QUANTILE_EPS)
    return ndtri(cdf)


def _quantile_decode(info: dict, normal: np.ndarray) -> np.ndarray:
    cdf = np.clip(ndtr(np.asarray(normal, dtype=float)), 0.0, 1.0)
    return np.interp(cdf, np.asarray(info["references"]), np.asarray(info["quantiles"]))


def _jsonable(info: dict) -> dict:
    return {key: (_python_scalar(value) if not isinstance(value, list) else [_python_scalar(v) for v in value]) for key, value in info.items()}
