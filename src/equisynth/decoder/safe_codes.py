"""Privacy-safe diagnosis codes: which comorbidity flags they can express and which they tie together.

The decoder writes a diagnosis code only when at least k real training patients have it, or when
no real patient has it at all (a dictionary code). A flag whose every code falls between (seen in
1 to k-1 patients) would point at those patients, so the generator is asked not to set it.
"""

import logging
from pathlib import Path

from equisynth.codelists import load_code_lists
from equisynth.decoder.diagnoses import code_signatures
from equisynth.errors import NotFoundError
from equisynth.warehouse import connect

log = logging.getLogger(__name__)

# Share of training admissions on which two code-linked flags must agree to be generated as one.
TIED_AGREEMENT = 0.98


def _safe_codes(con, run_id: str, k: int) -> list[str]:
    rows = con.execute(
        """
        with train as (
            select splits.subject_id
            from ml.splits as splits
            inner join ml.model_runs as runs on runs.split_id = splits.split_id
            where runs.run_id = ? and splits.part = 'train'
        ),

        seen_all as (
            select upper(trim(icd9_code)) as code, count(distinct subject_id) as patients
            from raw.diagnoses_icd
            where icd9_code is not null
            group by 1
        ),

        seen_train as (
            select upper(trim(icd9_code)) as code, count(distinct subject_id) as patients
            from raw.diagnoses_icd
            where subject_id in (select subject_id from train)
            group by 1
        )

        select distinct upper(trim(dictionary.icd9_code))
        from raw.d_icd_diagnoses as dictionary
        left join seen_all on seen_all.code = upper(trim(dictionary.icd9_code))
        left join seen_train on seen_train.code = upper(trim(dictionary.icd9_code))
        where dictionary.icd9_code is not null
          and (coalesce(seen_all.patients, 0) = 0 or coalesce(seen_train.patients, 0) >= ?)
        """,
        [run_id, k],
    ).fetchall()
    return [code for (code,) in rows]


def _safe_flag_sets(con, run_id: str, k: int) -> list[frozenset[str]]:
    """The flags (before the hierarchy) of each privacy-safe code, for run `run_id`."""
    if not con.execute("select count(*) from ml.model_runs where run_id = ?", [run_id]).fetchall()[0][0]:
        raise NotFoundError(f"Run {run_id} is not in ml.model_runs. List runs with `select run_id from ml.model_runs`.")
    signatures = code_signatures(load_code_lists(), _safe_codes(con, run_id, k))
    return [flags for flags, _chapter in signatures.values()]


def _blocked_flags(flag_sets: list[frozenset[str]], flag_columns: list[str], k: int) -> list[str]:
    expressible = set().union(*flag_sets) if flag_sets else set()
    blocked = sorted(flag for flag in flag_columns if flag not in expressible)
    if blocked:
        log.warning(
            "Flags %s are never generated: each of their codes is seen in 1 to %d real patients, "
            "so writing one could point at them.", ", ".join(blocked), k - 1,
        )
    return blocked


def _training_flags(con, run_id: str, flag_columns: list[str]):
    return con.execute(
        f"""
        select {", ".join(flag_columns)}
        from main.mm_admission_features
        where subject_id in (
            select splits.subject_id
            from ml.splits as splits
            inner join ml.model_runs as runs on runs.split_id = splits.split_id
            where runs.run_id = ? and splits.part = 'train'
        )
        """,
        [run_id],
    ).df()


def _implications(flag_sets: list[frozenset[str]], flag_columns: list[str], training) -> dict[str, list[str]]:
    wanted = set(flag_columns)
    implied: dict[str, set[str]] = {}
    for flags in flag_sets:
        for flag in flags & wanted:
            others = (flags & wanted) - {flag}
            implied[flag] = implied[flag] & others if flag in implied else set(others)

    for flag, others in list(implied.items()):
        for other in others:
            agreement = (training[flag] == training[other]).mean() if len(training) else 0.0
            if agreement >= TIED_AGREEMENT:
                implied.setdefault(other, set()).add(flag)
    return {flag: sorted(others) for flag, others in sorted(implied.items()) if others}


def flags_without_safe_code(warehouse: Path | str | None, run_id: str, flag_columns: list[str], k: int) -> list[str]:
    """Return the flags among `flag_columns` that no code seen in >= k training patients or in none can set."""
    return safe_code_rules(warehouse, run_id, flag_columns, k)[0]


def flag_implications(
    warehouse: Path | str | None, run_id: str, flag_columns: list[str], k: int
) -> dict[str, list[str]]:
    """Return, per flag, the other flags that every privacy-safe code setting it also sets.

    Quan's Elixhauser and Charlson lists share codes (every heart failure code sets both
    elix_chf and cci_chf), so a generated row with one flag of such a pair but not the other can
    only be decoded by adding the missing flag. The generator applies these implications itself,
    so that the decoder does not inflate the prevalence of the paired conditions.

    A one-way implication (F -> G) between flags that agree on at least `TIED_AGREEMENT` of the
    real training admissions is made mutual, so the two are generated as one condition.
    """
    return safe_code_rules(warehouse, run_id, flag_columns, k)[1]


def safe_code_rules(
    warehouse: Path | str | None, run_id: str, flag_columns: list[str], k: int
) -> tuple[list[str], dict[str, list[str]]]:
    """Return the blocked flags and the flag implications of run `run_id`, reading the codes once."""
    with connect(warehouse, read_only=True) as con:
        flag_sets = _safe_flag_sets(con, run_id, k)
        training = _training_flags(con, run_id, flag_columns)
    return _blocked_flags(flag_sets, flag_columns, k), _implications(flag_sets, flag_columns, training)
