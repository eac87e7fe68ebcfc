"""Group generated admissions into synthetic patients, so that 30-day readmissions exist in the tables.

The mart's readmit_30d is 1 when the same patient is admitted again within 30 days of discharge.
A generated row with readmit_30d = 1 is therefore linked to another generated row that becomes the
same patient's next admission: same gender and same age (both 90 for top-coded ages), preferably
the same ethnicity group. Linked rows form chains, one chain per patient, and every other row is a
patient of its own. A row with readmit_30d = 1 that dies in hospital or finds no partner row gets
readmit_30d = 0, and the change is counted.
"""

import numpy as np
import pandas as pd

TOP_CODED_AGE = 90
READMISSION_DAYS = 30
# A patient's admissions below age 90 all fall within this many days after a birthday, so the
# completed years stay the generated age at every admission.
MAX_CHAIN_DAYS = 330


def _age_key(rows: pd.DataFrame) -> np.ndarray:
    return np.clip(np.rint(rows["age"].to_numpy(dtype=float)), 0, TOP_CODED_AGE).astype(int)


def link_admissions(rows: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Assign each row a patient and a position in that patient's admissions.

    Returns `links` (index as `rows`, columns patient and position, patients numbered 0.. in the
    order of their first row) and the final readmit_30d of every row.
    """
    n = len(rows)
    readmit = rows["readmit_30d"].fillna(0).to_numpy(dtype=int) if "readmit_30d" in rows.columns else np.zeros(n, dtype=int)
    died = rows["hospital_expire_flag"].fillna(0).to_numpy(dtype=int) == 1
    gender = rows["gender"].astype(str).to_numpy()
    age = _age_key(rows)
    ethnicity = rows["ethnicity_group"].astype(str).to_numpy()
    los = np.clip(rows["los_hospital_days"].fillna(0).to_numpy(dtype=float), 0, None)

    successor = np.full(n, -1)
    predecessor = np.full(n, -1)
    head = np.arange(n)
    # Days from a chain's first admission to its last discharge, at most (30 days per gap).
    span = los.copy()

    # Rows free to become a later admission, by (gender, age) and by (gender, age, ethnicity).
    by_person: dict[tuple, list[int]] = {}
    by_person_ethnicity: dict[tuple, list[int]] = {}
    for i in rng.permutation(n):
        by_person.setdefault((gender[i], age[i]), []).append(int(i))
        by_person_ethnicity.setdefault((gender[i], age[i], ethnicity[i]), []).append(int(i))

    firsts = [int(i) for i in rng.permutation(n) if readmit[i] == 1 and not died[i]]
    for first in firsts:
        room = np.inf if age[first] >= TOP_CODED_AGE else MAX_CHAIN_DAYS - span[head[first]] - READMISSION_DAYS
        pools = (by_person_ethnicity.get((gender[first], age[first], ethnicity[first]), []), by_person.get((gender[first], age[first]), []))
        partner = -1
        for pool in pools:
            partner = _take_partner(first, pool, predecessor, head, span, room)
            if partner >= 0:
                break
        if partner < 0:
            continue
        span[head[first]] += READMISSION_DAYS + span[partner]
        successor[first] = partner
        predecessor[partner] = first
        # Every row of the partner's chain now starts with the first row's chain head.
        node = partner
        while node >= 0:
            head[node] = head[first]
            node = successor[node]

    final_readmit = (successor >= 0).astype(int)
    patient = np.full(n, -1)
    position = np.zeros(n, dtype=int)
    next_patient = 0
    for i in range(n):
        if predecessor[i] >= 0:
            continue
        node, step = i, 0
        while node >= 0:
            patient[node], position[node] = next_patient, step
            node, step = successor[node], step + 1
        next_patient += 1

    links = pd.DataFrame({"patient": patient, "position": position}, index=rows.index)
    return links, final_readmit


def _take_partner(first: int, pool: list[int], predecessor: np.ndarray, head: np.ndarray, span: np.ndarray, room: float) -> int:
    """Pop a row of `pool` that starts a chain other than `first`'s and fits in `room` days."""
    for slot, candidate in enumerate(pool):
        if candidate == first or predecessor[candidate] >= 0 or candidate == head[first] or span[candidate] > room:
            continue
        pool.pop(slot)
        return candidate
    return -1
