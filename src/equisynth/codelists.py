"""Clinical code lists of the dbt seeds, read in Python with the same matching rule as the SQL.

A seed row (code_from, code_to) matches a dot-less ICD-9-CM code `c` when
`c[:len(code_from)]` sorts between code_from and code_to, as strings. Both bounds have the
same length. The dbt macro `code_in_range` applies the same rule, so for any code
`flags_for_code` returns exactly the flags that int_diagnoses__comorbidity_matches gives it,
before the per-admission hierarchy.
"""

import csv
import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from equisynth.errors import EquisynthError
from equisynth.paths import DBT_PROJECT_DIR

log = logging.getLogger(__name__)

SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
ELIXHAUSER_SEED = "seed_elixhauser_quan_icd9.csv"
CHARLSON_SEED = "seed_charlson_quan_icd9.csv"
CHAPTERS_SEED = "seed_icd9_chapters.csv"
HIERARCHY_SEED = "seed_comorbidity_hierarchy.csv"


@dataclass(frozen=True)
class CodeLists:
    """Code-list seeds as DataFrames of text columns (flag or chapter, code_from, code_to)."""

    elixhauser: pd.DataFrame
    charlson: pd.DataFrame
    chapters: pd.DataFrame
    hierarchy: tuple[tuple[str, str], ...]

    @property
    def elixhauser_flags(self) -> list[str]:
        return list(dict.fromkeys(self.elixhauser["flag"]))

    @property
    def charlson_flags(self) -> list[str]:
        return list(dict.fromkeys(self.charlson["flag"]))

    @property
    def chapter_names(self) -> list[str]:
        return list(self.chapters["chapter"])

    def flags_for_code(self, code: str) -> set[str]:
        """Elixhauser and Charlson flags whose code list matches the code (no hierarchy applied)."""
        normalised = normalise_code(code)
        if normalised is None:
            return set()
        flags = set()
        for table in (self.elixhauser, self.charlson):
            for flag, code_from, code_to in table[["flag", "code_from", "code_to"]].itertuples(index=False):
                if code_matches(normalised, code_from, code_to):
                    flags.add(flag)
        return flags

    def chapter_for_code(self, code: str) -> str | None:
        """Mart column name of the code's ICD-9-CM chapter, or None when it is in no chapter."""
        normalised = normalise_code(code)
        if normalised is None:
            return None
        for chapter, code_from, code_to in self.chapters[["chapter", "code_from", "code_to"]].itertuples(index=False):
            if code_matches(normalised, code_from, code_to):
                return chapter
        return None

    def apply_hierarchy(self, flags: set[str]) -> set[str]:
        """Drop each suppressed flag whose dominant flag is in the set, as the dbt models do per admission."""
        suppressed = {weaker for dominant, weaker in self.hierarchy if dominant in flags}
        return flags - suppressed


def normalise_code(code: str | None) -> str | None:
    """Trimmed, upper-case code, or None when empty; as the staging model cleans ICD9_CODE."""
    if code is None:
        return None
    text = str(code).strip().upper()
    return text or None


def code_matches(code: str, code_from: str, code_to: str) -> bool:
    return code_from <= code[: len(code_from)] <= code_to


def read_seed(name: str, columns: list[str], seeds_dir: Path) -> pd.DataFrame:
    path = seeds_dir / name
    if not path.exists():
        raise EquisynthError(f"Code-list seed {path} is missing. Restore it from the equisynth repository.")
    # Every column is text: codes such as '0389' and 'V450' must keep their exact characters.
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    frame = pd.DataFrame(rows, columns=columns, dtype="string")
    missing = [column for column in columns if rows and column not in rows[0]]
    if missing:
        raise EquisynthError(f"Code-list seed {path} has no column {missing[0]!r}; expected columns {columns}.")
    if "code_from" in columns:
        bad = frame[frame["code_from"].str.len() != frame["code_to"].str.len()]
        if not bad.empty:
            row = bad.iloc[0]
            raise EquisynthError(
                f"Code-list seed {path}: code_from {row['code_from']!r} and code_to {row['code_to']!r} "
                "differ in length; both bounds of a range must have the same number of characters."
            )
    return frame.astype(object)


def load_code_lists(seeds_dir: Path | None = None) -> CodeLists:
    """Read the code-list seeds of the dbt project (cached for the default folder)."""
    if seeds_dir is None:
        return _default_code_lists()
    return _read_code_lists(Path(seeds_dir))


@functools.lru_cache(maxsize=1)
def _default_code_lists() -> CodeLists:
    return _read_code_lists(SEEDS_DIR)


def _read_code_lists(seeds_dir: Path) -> CodeLists:
    hierarchy = read_seed(HIERARCHY_SEED, ["dominant_flag", "suppressed_flag"], seeds_dir)
    return CodeLists(
        elixhauser=read_seed(ELIXHAUSER_SEED, ["flag", "code_from", "code_to"], seeds_dir),
        charlson=read_seed(CHARLSON_SEED, ["flag", "code_from", "code_to"], seeds_dir),
        chapters=read_seed(CHAPTERS_SEED, ["chapter", "code_from", "code_to"], seeds_dir),
        hierarchy=tuple(hierarchy[["dominant_flag", "suppressed_flag"]].itertuples(index=False, name=None)),
    )


def flags_for_code(code: str) -> set[str]:
    """Elixhauser and Charlson flags set by one dot-less ICD-9-CM code (before the hierarchy)."""
    return load_code_lists().flags_for_code(code)


def chapter_for_code(code: str) -> str | None:
    """Mart column name of the ICD-9-CM chapter of one dot-less code, or None."""
    return load_code_lists().chapter_for_code(code)
