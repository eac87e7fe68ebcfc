"""Column roles of a table that a generator learns: kind, condition and derived flags.

The roles come from the `meta` of each column in the dbt model's yml (read by
`equisynth.schema.load_table_schema`); this module keeps them in a form that is saved with
every model artefact, so a model reloads with the roles it was trained on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

KINDS = ("id", "categorical", "binary", "continuous", "count")


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its kind, whether generators take it as an input, whether dbt derives it."""

    name: str
    kind: str
    condition: bool = False
    derived: bool = False
    condition_flag: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: kind {self.kind!r} is not one of {', '.join(KINDS)}")


@dataclass(frozen=True)
class TableSchema:
    """Ordered column specs of one table (for example the mart `mm_admission_features`)."""

    model: str
    columns: tuple[ColumnSpec, ...] = field(default_factory=tuple)

    def __getitem__(self, name: str) -> ColumnSpec:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def condition_columns(self) -> list[str]:
        """Inputs of the generators, in table order."""
        return [column.name for column in self.columns if column.condition]

    @property
    def generated_columns(self) -> list[str]:
        """Base columns (not derived, not ids) that a generator outputs, conditions excluded."""
        return [
            column.name
            for column in self.columns
            if not column.derived and not column.condition and column.kind != "id"
        ]

    @property
    def output_columns(self) -> list[str]:
        """Columns of a generated table: every base column plus every condition, in table order."""
        return [
            column.name
            for column in self.columns
            if column.kind != "id" and (column.condition or not column.derived)
        ]

    def flags(self, condition_flag: str) -> list[str]:
        """Generated binary columns tagged with `condition_flag` (for example 'elixhauser')."""
        generated = set(self.generated_columns)
        return [c.name for c in self.columns if c.condition_flag == condition_flag and c.name in generated]

    def to_dict(self) -> dict:
        return {"model": self.model, "columns": [asdict(column) for column in self.columns]}

    @classmethod
    def from_dict(cls, data: dict) -> "TableSchema":
        return cls(model=data["model"], columns=tuple(ColumnSpec(**column) for column in data["columns"]))
