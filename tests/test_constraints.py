"""Consistency rules on generated rows: code-linked flags and multimorbidity fill-in."""

import numpy as np
import pandas as pd

from models_ml.constraints import ConsistencyRules, apply_implications


def test_mutual_implication_ties_flags():
    rows = pd.DataFrame({"elix_chf": [1, 0, 1, 0], "cci_chf": [0, 1, 1, 0]})

    apply_implications(rows, {"elix_chf": ["cci_chf"], "cci_chf": ["elix_chf"]})

    assert rows["cci_chf"].tolist() == [1, 0, 1, 0]
    assert rows["elix_chf"].tolist() == [1, 0, 1, 0]


def test_one_way_implication_sets_target():
    rows = pd.DataFrame({"elix_lymphoma": [1, 0, 0], "cci_malignancy": [0, 1, 0]})

    apply_implications(rows, {"elix_lymphoma": ["cci_malignancy"]})

    assert rows["cci_malignancy"].tolist() == [1, 1, 0]
    assert rows["elix_lymphoma"].tolist() == [1, 0, 0]


def test_charlson_source_gives_way_to_elixhauser_target():
    rows = pd.DataFrame({"cci_mild_liver": [1, 1, 0], "elix_liver_disease": [0, 1, 1]})

    apply_implications(rows, {"cci_mild_liver": ["elix_liver_disease"]})

    assert rows["elix_liver_disease"].tolist() == [0, 1, 1]
    assert rows["cci_mild_liver"].tolist() == [0, 1, 0]


def test_fill_in_pass_sets_elixhauser_target():
    rows = pd.DataFrame({"cci_mild_liver": [1], "elix_liver_disease": [0]})

    apply_implications(rows, {"cci_mild_liver": ["elix_liver_disease"]}, set_targets_only=True)

    assert rows.iloc[0].tolist() == [1, 1]


def test_implication_respects_row_mask():
    rows = pd.DataFrame({"elix_chf": [1, 1], "cci_chf": [0, 0]})

    apply_implications(rows, {"elix_chf": ["cci_chf"]}, rows_mask=np.array([True, False]))

    assert rows["cci_chf"].tolist() == [1, 0]


def rules_with_three_flags() -> ConsistencyRules:
    flags = ["elix_a", "elix_b", "elix_c"]
    return ConsistencyRules(
        hierarchy=[],
        multimorbid_flags=flags,
        multimorbid_condition="multimorbid",
        threshold=2,
        switchable_flags=flags,
        icu_pairs=[],
    )


def test_fill_in_flags_drawn_by_probability():
    n = 4000
    rows = pd.DataFrame({"elix_a": np.ones(n, int), "elix_b": np.zeros(n, int), "elix_c": np.zeros(n, int)})
    conditions = pd.DataFrame({"multimorbid": np.ones(n, int)})
    probability = pd.DataFrame({"elix_a": np.full(n, 0.9), "elix_b": np.full(n, 0.6), "elix_c": np.full(n, 0.3)})

    fixed = rules_with_three_flags().apply(rows, conditions, probability, rng=np.random.default_rng(0))

    assert (fixed[["elix_a", "elix_b", "elix_c"]].sum(axis=1) == 2).all()
    share_b = fixed["elix_b"].mean()
    assert abs(share_b - 0.6 / 0.9) < 0.03
    assert fixed["elix_c"].mean() > 0.25


def test_fill_in_without_rng_takes_most_probable():
    rows = pd.DataFrame({"elix_a": [1, 1], "elix_b": [0, 0], "elix_c": [0, 0]})
    conditions = pd.DataFrame({"multimorbid": [1, 1]})
    probability = pd.DataFrame({"elix_a": [0.9, 0.9], "elix_b": [0.6, 0.6], "elix_c": [0.3, 0.3]})

    fixed = rules_with_three_flags().apply(rows, conditions, probability)

    assert fixed["elix_b"].tolist() == [1, 1]
    assert fixed["elix_c"].tolist() == [0, 0]
