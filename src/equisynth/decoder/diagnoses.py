"""Choose real ICD-9 codes for generated comorbidity flags and chapter counts, with an exact round trip.

Each code has a signature: the flags the code lists set for it (before the hierarchy) and its
ICD-9-CM chapter. An admission's flags after dbt are the union of its codes' flags with every
suppressed flag removed whose dominant flag is also set, and its chapter counts are the number of
its codes per chapter. For every generated row the chooser picks codes whose union, after the
hierarchy, equals the row's flags and whose chapters equal the row's chapter counts.

Codes come from `candidates`: codes seen in at least k distinct real training patients, drawn
with probability proportional to that patient count. Where no candidate fits, a code of the needed
category comes from the D_ICD_DIAGNOSES dictionary, and the fallback is counted. Only dictionary
codes that no real patient has (or at least k have) are used. Codes seen in 1 to k-1 real patients
are never written, because they could point at those patients. A flag that only such codes set
(Quan's blood loss anaemia is the one code 2800) cannot be decoded. The generation step therefore
keeps it at 0 (`equisynth.decoder.safe_codes`), and a row that still has it loses the flag.

A generated row can be infeasible: a suppressed flag set together with its dominant one, a flag
that no code sets without another flag the row lacks, or more flag-setting codes than its chapter
counts allow. The row is then moved to the nearest feasible one: the suppressed flag is cleared
(its dominant flag already implies the condition), implied flags are added, chapter counts are
raised. A requested flag is removed only in one case: a row with multimorbid = 0 whose flag cannot
be set without a second Elixhauser condition, because the row's multimorbid value is a condition
the rows were generated for.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from equisynth.errors import EquisynthError

Signature = tuple[frozenset[str], str | None]


def code_signatures(code_lists, codes: Iterable[str]) -> dict[str, Signature]:
    """Flags (before the hierarchy) and chapter of every code, by the code lists' matching rule.

    The same rule as `CodeLists.flags_for_code` and `chapter_for_code` (a seed row matches when
    the code's first len(code_from) characters sort between code_from and code_to), applied one
    seed row at a time over all codes at once, because a full dictionary has about 15,000 codes.
    """
    from equisynth.codelists import normalise_code

    originals = list(dict.fromkeys(codes))
    normalised = pd.Series([normalise_code(code) or "" for code in originals], dtype=object)
    flags: list[set[str]] = [set() for _ in originals]
    chapters: list[str | None] = [None] * len(originals)
    prefixes: dict[int, pd.Series] = {}

    def matching(code_from: str, code_to: str) -> np.ndarray:
        width = len(code_from)
        if width not in prefixes:
            prefixes[width] = normalised.str[:width]
        prefix = prefixes[width]
        return ((prefix >= code_from) & (prefix <= code_to) & (normalised != "")).to_numpy(dtype=bool)

    for table in (code_lists.elixhauser, code_lists.charlson):
        for flag, code_from, code_to in table[["flag", "code_from", "code_to"]].itertuples(index=False, name=None):
            for i in np.flatnonzero(matching(code_from, code_to)):
                flags[i].add(flag)
    for chapter, code_from, code_to in code_lists.chapters[["chapter", "code_from", "code_to"]].itertuples(index=False, name=None):
        for i in np.flatnonzero(matching(code_from, code_to)):
            if chapters[i] is None:
                chapters[i] = chapter
    return {code: (frozenset(flags[i]), chapters[i]) for i, code in enumerate(originals)}


@dataclass
class CodePool:
    """Codes with their flag bit masks, chapter indexes and sampling weights, as numpy arrays."""

    codes: np.ndarray
    masks: np.ndarray
    chapters: np.ndarray
    weights: np.ndarray

    def __post_init__(self) -> None:
        self.position = {code: i for i, code in enumerate(self.codes)}

    def __len__(self) -> int:
        return len(self.codes)

    def unused(self, used: set) -> np.ndarray:
        """True for codes not in `used` (the codes a row already has)."""
        free = np.ones(len(self.codes), dtype=bool)
        taken = [self.position[code] for code in used if code in self.position]
        free[taken] = False
        return free


@dataclass
class DiagnosisChoice:
    """The codes of every row (in seq_num order) and the final flag and chapter values."""

    codes: list[list[str]]
    final_values: pd.DataFrame
    fallback_codes: int = 0
    adjusted_rows: int = 0
    adjustments: Counter = field(default_factory=Counter)


class DiagnosisChooser:
    """Pick codes per row; build once per decode, then call `choose(rows)`.

    `signature(code)` returns the code's flags (elix_* and cci_* names) and chapter (mart column
    name, or None); `hierarchy` lists (dominant, suppressed) pairs; `candidates` maps each
    eligible code to its distinct training patient count; `dictionary` lists every code of
    D_ICD_DIAGNOSES usable as a fallback.
    """

    def __init__(
        self,
        flag_columns: list[str],
        chapter_columns: list[str],
        signature: Callable[[str], Signature],
        hierarchy: Iterable[tuple[str, str]],
        candidates: dict[str, int],
        dictionary: Iterable[str],
        elixhauser_prefix: str = "elix_",
        skip_first_diagnosis: bool = False,
        seed: int = 0,
    ):
        self.flag_columns = list(flag_columns)
        self.chapter_columns = list(chapter_columns)
        self.bit = {flag: 1 << i for i, flag in enumerate(self.flag_columns)}
        self.chapter_index = {chapter: i for i, chapter in enumerate(self.chapter_columns)}
        self.hierarchy = [(self.bit[d], self.bit[s]) for d, s in hierarchy if d in self.bit and s in self.bit]
        self.elix_mask = sum(bit for flag, bit in self.bit.items() if flag.startswith(elixhauser_prefix))
        self.skip_first = skip_first_diagnosis
        self.rng = np.random.default_rng(seed)
        self.signature = signature

        self.candidates = self._pool(candidates)
        self.fallbacks = self._pool({code: 1 for code in dictionary if code not in candidates})
        # Pools in order of preference, each with whether its codes count as fallbacks.
        self.pools = [(self.candidates, False), (self.fallbacks, True)]
        self.flag_prevalence: list[str] = []

    def _pool(self, weighted_codes: dict[str, int]) -> CodePool:
        codes, masks, chapters, weights = [], [], [], []
        for code, weight in sorted(weighted_codes.items()):
            flags, chapter = self.signature(code)
            if chapter not in self.chapter_index:
                continue
            codes.append(code)
            masks.append(sum(self.bit[flag] for flag in flags if flag in self.bit))
            chapters.append(self.chapter_index[chapter])
            weights.append(float(weight))
        return CodePool(
            np.array(codes, dtype=object),
            np.array(masks, dtype=np.uint64),
            np.array(chapters, dtype=np.int64),
            np.array(weights, dtype=float),
        )

    def apply_hierarchy(self, mask: int) -> int:
        for dominant, suppressed in self.hierarchy:
            if mask & dominant and mask & suppressed:
                mask &= ~suppressed
        return mask

    def allowed(self, target: int) -> int:
        """Flags a code may set without changing `target` after the hierarchy."""
        extra = 0
        for dominant, suppressed in self.hierarchy:
            if target & dominant:
                extra |= suppressed
        return target | extra

    def _elix_count(self, mask: int) -> int:
        return bin(mask & self.elix_mask).count("1")

    # -- one row ---------------------------------------------------------------------------

    def _draw(self, pool: CodePool, index: np.ndarray, size: int = 1) -> list[int]:
        weights = pool.weights[index]
        chosen = self.rng.choice(len(index), size=size, replace=False, p=weights / weights.sum())
        return [int(index[i]) for i in np.atleast_1d(chosen)]

    def _covering(self, pool: CodePool, uncovered: int, allowed: int, used: set, capacity: np.ndarray | None) -> np.ndarray:
        masks = pool.masks
        ok = ((masks & np.uint64(uncovered)) != 0) & ((masks & ~np.uint64(allowed)) == 0)
        if used:
            ok &= pool.unused(used)
        if capacity is not None:
            ok &= capacity[pool.chapters] > 0
        index = np.flatnonzero(ok)
        if len(index) == 0:
            return index
        cover = np.array([bin(int(m) & uncovered).count("1") for m in masks[index]])
        return index[cover == cover.max()]

    def _pick_cover(self, uncovered: int, allowed: int, used: set, capacity: np.ndarray) -> tuple[CodePool, int, str | None]:
        """Pick a code that sets uncovered flags and nothing outside `allowed`, in a chapter with room if possible."""
        for pool, fallback in self.pools:
            index = self._covering(pool, uncovered, allowed, used, capacity)
            if len(index):
                return pool, self._draw(pool, index)[0], "fallback" if fallback else None
        for pool, fallback in self.pools:
            index = self._covering(pool, uncovered, allowed, used, None)
            if len(index):
                return pool, self._draw(pool, index)[0], "raised_chapter" + ("+fallback" if fallback else "")
        return None, -1, None

    def _pick_with_extras(self, uncovered: int, target: int, used: set, keep_single_condition: bool) -> tuple[CodePool | None, int]:
        """A code that sets an uncovered flag plus the fewest flags the row lacks.

        Codes that would suppress one of the row's flags (by setting its dominant flag) are
        taken only when no other code sets the flag; the suppressed condition then lives on in
        its dominant form (e.g. a solid tumour becomes a metastatic cancer).
        """
        forbidden = 0
        for dominant, suppressed in self.hierarchy:
            if target & suppressed:
                forbidden |= dominant
        for avoid in (forbidden, 0):
            for pool, _ in self.pools:
                masks = pool.masks
                ok = ((masks & np.uint64(uncovered)) != 0) & ((masks & np.uint64(avoid)) == 0)
                if used:
                    ok &= pool.unused(used)
                index = np.flatnonzero(ok)
                if keep_single_condition and len(index):
                    index = np.array([i for i in index if self._elix_count(self.apply_hierarchy(target | int(masks[i]))) < 2], dtype=np.int64)
                if len(index) == 0:
                    continue
                extras = np.array([bin(int(m) & ~self.allowed(target)).count("1") for m in masks[index]])
                best = index[extras == extras.min()]
                return pool, self._draw(pool, best)[0]
        return None, -1

    def choose_row(self, flags: int, chapter_counts: np.ndarray, multimorbid: int | None) -> tuple[list[str], int, np.ndarray, list[str], int]:
        """Codes for one row; returns (codes, final flags, final chapter counts, adjustments, fallbacks)."""
        adjustments: list[str] = []
        target = self.apply_hierarchy(flags)
        if target != flags:
            adjustments.append("suppressed flag cleared (its dominant flag is set)")
        if multimorbid == 1 and self._elix_count(target) < 2:
            for flag in self.flag_prevalence:
                bit = self.bit[flag]
                if bit & self.elix_mask and not bit & self.allowed(target) and self.apply_hierarchy(target | bit) == target | bit:
                    target |= bit
                    adjustments.append("Elixhauser flag added for multimorbid = 1")
                    if self._elix_count(target) >= 2:
                        break

        while True:
            outcome = self._cover_row(target, chapter_counts, multimorbid == 0)
            if isinstance(outcome, int):
                # A flag no code can set: drop it and choose the row's codes again from scratch,
                # because codes chosen so far may rest on the dropped flag's hierarchy.
                target &= ~outcome
                adjustments.append("flag removed: no privacy-safe code sets it without a second Elixhauser condition")
                continue
            codes, target, final_chapters, row_adjustments, fallbacks = outcome
            adjustments.extend(row_adjustments)
            break
        self._check_row(codes, target, final_chapters)
        return codes, target, final_chapters, adjustments, fallbacks

    def _cover_row(self, target: int, chapter_counts: np.ndarray, keep_single_condition: bool):
        """Codes that set exactly `target` and fill the chapter counts, or the bit of a flag no code can set."""
        adjustments: list[str] = []
        fallbacks = 0
        capacity = chapter_counts.astype(np.int64).copy()
        final_chapters = chapter_counts.astype(np.int64).copy()
        chosen: list[tuple[str, int, int]] = []
        used: set[str] = set()
        uncovered = target
        while uncovered:
            pool, i, note = self._pick_cover(uncovered, self.allowed(target), used, capacity)
            if pool is None:
                pool, i = self._pick_with_extras(uncovered, target, used, keep_single_condition)
                if pool is None:
                    return uncovered & -uncovered
                note = None if pool is self.candidates else "fallback"
                mask = int(pool.masks[i])
                added = mask & ~self.allowed(target)
                new_target = self.apply_hierarchy(target | mask)
                if new_target & target != target:
                    adjustments.append("suppressed flag cleared (its dominant flag is set)")
                target = new_target
                uncovered = (uncovered | added) & target
                adjustments.append("implied flag added")
            if note and "fallback" in note:
                fallbacks += 1
            chapter = int(pool.chapters[i])
            if capacity[chapter] <= 0:
                final_chapters[chapter] += 1
                adjustments.append("chapter count raised")
            else:
                capacity[chapter] -= 1
            chosen.append((str(pool.codes[i]), int(pool.masks[i]), chapter))
            used.add(str(pool.codes[i]))
            uncovered &= ~int(pool.masks[i])

        fillers, filler_fallbacks = self._fill(capacity, self.allowed(target), used)
        fallbacks += filler_fallbacks
        codes = [code for code, _, _ in chosen] + fillers
        order = self.rng.permutation(len(codes))
        codes = [codes[i] for i in order]
        if self.skip_first and codes:
            codes, extra = self._first_without_needed_flags(codes, chosen, fillers, target, used)
            if extra is not None:
                final_chapters[extra] += 1
                adjustments.append("chapter count raised")
        return codes, target, final_chapters, adjustments, fallbacks

    def _check_row(self, codes: list[str], target: int, chapters: np.ndarray) -> None:
        """Recompute flags and chapter counts from the chosen codes, as the dbt models do."""
        union = 0
        counts = np.zeros(len(self.chapter_columns), dtype=np.int64)
        positions = codes[1:] if self.skip_first else codes
        for code in positions:
            union |= self._mask_of(code)
        for code in codes:
            counts[self.chapter_index[self.signature(code)[1]]] += 1
        if self.apply_hierarchy(union) != target or not np.array_equal(counts, chapters):
            raise EquisynthError(
                f"Internal error: diagnosis codes {codes} do not give back the row's flags and chapter counts. "
                "Report this with the generation id."
            )

    def _fill(self, capacity: np.ndarray, allowed: int, used: set) -> tuple[list[str], int]:
        """Codes that fill each chapter's remaining count without setting a flag outside `allowed`."""
        fillers: list[str] = []
        fallbacks = 0
        for chapter in np.flatnonzero(capacity > 0):
            need = int(capacity[chapter])
            for pool, fallback in self.pools:
                if need == 0:
                    break
                ok = (pool.chapters == chapter) & ((pool.masks & ~np.uint64(allowed)) == 0)
                if used:
                    ok &= pool.unused(used)
                index = np.flatnonzero(ok)
                take = min(need, len(index))
                if take == 0:
                    continue
                picked = [str(pool.codes[i]) for i in self._draw(pool, index, take)]
                fillers.extend(picked)
                used.update(picked)
                need -= take
                if fallback:
                    fallbacks += take
            if need:
                raise EquisynthError(
                    f"D_ICD_DIAGNOSES has too few codes of chapter {self.chapter_columns[chapter]} to decode a "
                    f"row that needs {int(capacity[chapter])} of them. Load the complete D_ICD_DIAGNOSES dictionary."
                )
        return fillers, fallbacks

    def _first_without_needed_flags(self, codes, chosen, fillers, target, used):
        """With skip_first_diagnosis, put first a code whose flags the other codes also set."""
        masks = {code: mask for code, mask, _ in chosen}
        for position, code in enumerate(codes):
            others = 0
            for other in codes[:position] + codes[position + 1:]:
                others |= masks.get(other, 0) if other in masks else int(self._mask_of(other))
            if self.apply_hierarchy(others) == target:
                return [code] + codes[:position] + codes[position + 1:], None
        # No code can go first without losing a flag: add a flagless code in front, in the chapter
        # of the most frequent flagless candidate (or of any flagless dictionary code).
        chapter = None
        for pool, _ in self.pools:
            free = np.flatnonzero((pool.masks == 0) & pool.unused(used))
            if len(free):
                chapter = int(pool.chapters[free[np.argmax(pool.weights[free])]])
                break
        if chapter is None:
            raise EquisynthError("D_ICD_DIAGNOSES has no code without comorbidity flags to put in position 1.")
        capacity = np.zeros(len(self.chapter_columns), dtype=np.int64)
        capacity[chapter] = 1
        extra, _ = self._fill(capacity, 0, used)
        return extra + codes, chapter

    def _mask_of(self, code: str) -> int:
        flags, _ = self.signature(code)
        return sum(self.bit[flag] for flag in flags if flag in self.bit)

    # -- all rows --------------------------------------------------------------------------

    # NOTE: one Python loop step per row; the speed on a full-size generation (about 59,000 rows)
    # has not been measured.
    def choose(self, rows: pd.DataFrame) -> DiagnosisChoice:
        """Choose codes for every row of `rows` (generated base rows with flag and chapter columns)."""
        prevalence = rows[[flag for flag in self.flag_columns if flag in rows.columns]].mean()
        self.flag_prevalence = list(prevalence.sort_values(ascending=False, kind="stable").index)

        flag_matrix = rows[self.flag_columns].fillna(0).to_numpy(dtype=np.int64)
        chapter_matrix = rows[self.chapter_columns].fillna(0).to_numpy(dtype=np.int64)
        bits = np.array([self.bit[flag] for flag in self.flag_columns], dtype=object)
        multimorbid = rows["multimorbid"].to_numpy() if "multimorbid" in rows.columns else [None] * len(rows)

        all_codes, final_flags, final_chapters = [], [], []
        fallbacks, adjusted, reasons = 0, 0, Counter()
        for flag_row, chapter_row, mm in zip(flag_matrix, chapter_matrix, multimorbid):
            mask = int(sum(bits[flag_row > 0])) if flag_row.any() else 0
            codes, target, chapters, adjustments, row_fallbacks = self.choose_row(mask, np.clip(chapter_row, 0, None), None if mm is None or pd.isna(mm) else int(mm))
            all_codes.append(codes)
            final_flags.append([1 if target & self.bit[flag] else 0 for flag in self.flag_columns])
            final_chapters.append(chapters)
            fallbacks += row_fallbacks
            if adjustments:
                adjusted += 1
                reasons.update(set(adjustments))

        final = pd.DataFrame(final_flags, columns=self.flag_columns, index=rows.index)
        final[self.chapter_columns] = np.array(final_chapters, dtype=np.int64).reshape(len(rows), len(self.chapter_columns))
        return DiagnosisChoice(all_codes, final, fallbacks, adjusted, reasons)
