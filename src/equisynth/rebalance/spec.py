"""The rebalancing spec: which groups get which target shares, read inline or from a TOML file.

A spec has the keys of the `[rebalance]` section of `equisynth.toml`; keys missing from the
spec take the values of that section. Examples of inline specs:

    by = ["ethnicity_group", "insurance"], target = "parity", within = "multimorbid = 1"
    by = ["gender"], target = "explicit", shares = {M = 0.5, F = 0.5}, mode = "replace", size = 500
"""

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from equisynth.config import RebalanceSettings
from equisynth.errors import ConfigError

GROUP_SEPARATOR = " x "
SHARE_SUM_TOLERANCE = 1e-3

# One condition of `within`: `column = value` or `column != value`; values may be quoted.
_CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=|==|!=)\s*(.+?)\s*$")


@dataclass(frozen=True)
class WithinCondition:
    """One `column = value` (or `!=`) term of the `within` sub-population."""

    column: str
    value: Any
    negated: bool = False

    def __str__(self) -> str:
        operator = "!=" if self.negated else "="
        return f"{self.column} {operator} {self.value!r}" if isinstance(self.value, str) else f"{self.column} {operator} {self.value}"


def parse_within(text: str | None) -> list[WithinCondition]:
    """Parse `col = value [and col2 = value2 ...]`; numbers become int or float, quotes are removed."""
    if text is None or not text.strip():
        return []
    conditions = []
    for term in re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE):
        match = _CONDITION.match(term)
        if match is None:
            raise ValueError(
                f"cannot read {term!r}: write `column = value`, several joined with `and`, "
                "for example `multimorbid = 1 and gender = 'F'`"
            )
        column, operator, raw_value = match.groups()
        conditions.append(WithinCondition(column, _parse_value(raw_value), negated=operator == "!="))
    return conditions


def _parse_value(raw: str) -> Any:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    return raw


class RebalanceSpec(BaseModel):
    """A validated rebalancing request; see `RebalanceSettings` for the meaning of each key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: list[str] = Field(min_length=1)
    target: Literal["parity", "reference", "explicit"] = "parity"
    reference_csv: str | None = None
    shares: dict[str, float] = Field(default_factory=dict)
    mode: Literal["augment", "replace"] = "augment"
    size: int | None = Field(None, ge=1)
    within: str | None = None
    min_group_rows: int = Field(30, ge=1)
    allow_empty_groups: bool = False
    seed: int = Field(0, ge=0)

    @field_validator("by")
    @classmethod
    def _by_unique(cls, value: list[str]) -> list[str]:
        duplicates = sorted({name for name in value if value.count(name) > 1})
        if duplicates:
            raise ValueError(f"attributes listed twice: {duplicates}")
        return value

    @field_validator("within")
    @classmethod
    def _within_readable(cls, value: str | None) -> str | None:
        parse_within(value)
        return value or None

    @field_validator("shares")
    @classmethod
    def _shares_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for group, share in value.items():
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"share of group {group!r} is {share}; each share must be between 0 and 1")
        return value

    @model_validator(mode="after")
    def _target_inputs(self) -> "RebalanceSpec":
        if self.target == "explicit":
            if not self.shares:
                raise ValueError("target = 'explicit' needs `shares`, e.g. shares = {\"BLACK x Medicaid\" = 0.5, ...}")
            total = sum(self.shares.values())
            if abs(total - 1.0) > SHARE_SUM_TOLERANCE:
                raise ValueError(f"shares sum to {total:.4f}, not 1: adjust them so they add up to 1")
        if self.target == "reference" and not self.reference_csv:
            raise ValueError("target = 'reference' needs `reference_csv`, a CSV with one column per `by` attribute and a `share` column")
        # `shares` without target = 'explicit' and `size` without mode = 'replace' are not read, so
        # a config section can keep them while the command line switches the target or mode.
        return self

    @property
    def within_conditions(self) -> list[WithinCondition]:
        return parse_within(self.within)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _allowed_values(error: dict) -> str:
    field = error["loc"][0] if error["loc"] else None
    field_info = RebalanceSettings.model_fields.get(field) if isinstance(field, str) else None
    if error["type"] == "literal_error":
        return ""
    if error["type"] == "extra_forbidden":
        return f" Allowed keys: {', '.join(RebalanceSpec.model_fields)}."
    if field_info is not None and field_info.description:
        return f" ({field_info.description})"
    return ""


def format_spec_error(exc: ValidationError, source: str) -> str:
    """Describe every invalid key of a spec: the key, the value, what is wrong and what is allowed."""
    lines = [f"Invalid rebalancing spec ({source}):"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "spec"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key.{_allowed_values(error)}")
        elif error["loc"]:
            lines.append(f"  {key} = {error.get('input')!r}: {message}.{_allowed_values(error)}")
        else:
            lines.append(f"  {message}.")
    return "\n".join(lines)


def _top_level_lines(text: str) -> str:
    """Turn `;` and `,` separators outside quotes, brackets and braces into newlines."""
    out, depth, quote = [], 0, None
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char in ";," and depth == 0:
            char = "\n"
        out.append(char)
    return "".join(out)


def _read_toml(text: str, source: str) -> dict[str, Any]:
    """Read TOML key-value lines, or one line of them separated by `,` or `;`."""
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        try:
            parsed = tomllib.loads(_top_level_lines(text))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"Rebalancing spec {source} is not valid TOML ({exc}). Write key = value pairs, separated by "
                'newlines, commas or semicolons, for example: by = ["ethnicity_group", "insurance"], '
                'target = "parity", within = "multimorbid = 1"'
            ) from exc
    if set(parsed) == {"rebalance"} and isinstance(parsed["rebalance"], dict):
        parsed = parsed["rebalance"]
    return parsed


def parse_spec_text(spec: str | Path) -> dict[str, Any]:
    """Read the keys of a spec given inline (TOML key-value pairs) or as the path of a TOML file.

    A file may hold the keys at the top level or under a `[rebalance]` table. Returns the keys as
    given, unvalidated; `load_spec` validates them.
    """
    text = str(spec).strip()
    if "=" not in text:
        path = Path(text).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"Rebalancing spec file {path} not found. Give a TOML file, or the spec inline, "
                'e.g. --rebalance \'by = ["ethnicity_group"], target = "parity"\'.'
            )
        return _read_toml(path.read_text(encoding="utf-8"), f"file {path}")
    return _read_toml(text, "given inline")


def load_spec(spec: str | Path | dict | None, defaults: RebalanceSettings | None = None, source: str | None = None) -> RebalanceSpec:
    """Build a RebalanceSpec from inline TOML, a TOML file path, a dict or None (the defaults alone).

    Keys the spec leaves out take their value from `defaults` (the `[rebalance]` config section).
    Raises ConfigError naming each invalid key, its value and the allowed values; `source`
    names where the spec came from in that message.
    """
    defaults = defaults or RebalanceSettings()
    values: dict[str, Any] = {}
    if isinstance(spec, dict):
        values = dict(spec)
        source = source or "spec given as a dict"
    elif spec is not None and str(spec).strip():
        values = parse_spec_text(spec)
        source = source or ("given inline" if "=" in str(spec) else f"file {spec}")
    else:
        source = source or "the rebalance section of the settings"

    merged = defaults.model_dump()
    merged.update(values)
    try:
        return RebalanceSpec.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(format_spec_error(exc, source)) from exc
