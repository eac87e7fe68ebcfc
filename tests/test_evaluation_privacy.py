"""Privacy metrics on a copy of the training rows (a leak) and on independent rows (no leak)."""

import numpy as np
import pytest

from equisynth.evaluation.context import EvaluationContext
from equisynth.evaluation.privacy import nndr, privacy_metrics
from evaluation_helpers import SCHEMA, make_rows

CONDITIONS = ["ethnicity_group", "gender"]


def overall(metrics):
    return {m.metric: m for m in metrics if m.subgroup == "overall"}


@pytest.fixture(scope="module")
def leaked():
    train = make_rows(200, 0)
    context = EvaluationContext("gen_copy", "replace", SCHEMA, train, make_rows(80, 1, 5000), train.copy(),
                                CONDITIONS, max_intersection=1, bootstrap=20, sensitive_column="elix_drug_abuse",
                                quasi_identifiers=["age", "gender", "ethnicity_group", "insurance"])
    return overall(privacy_metrics(context)[0])


@pytest.fixture(scope="module")
def independent():
    context = EvaluationContext("gen_new", "replace", SCHEMA, make_rows(200, 0), make_rows(80, 1, 5000),
                                make_rows(200, 2, 9000), CONDITIONS, max_intersection=1, bootstrap=20,
                                sensitive_column="elix_drug_abuse",
                                quasi_identifiers=["age", "gender", "ethnicity_group", "insurance"])
    return overall(privacy_metrics(context)[0])


def test_copy_has_zero_dcr(leaked):
    assert leaked["dcr_p5_synthetic"].value == pytest.approx(0.0, abs=1e-6)
    assert leaked["dcr_median_synthetic"].value == pytest.approx(0.0, abs=1e-6)
    assert leaked["exact_match_rate_synthetic"].value == 1.0


def test_copy_membership_auc_near_one(leaked):
    assert leaked["mia_auc"].value > 0.95


def test_copy_closer_to_training(leaked):
    # Only the training rows drawn into the equal-size sample (80 of 200) win outright; the rest are
    # coin flips, so a full copy gives about 0.4 + 0.6 / 2 = 0.7.
    assert leaked["dcr_closer_to_train_share"].value > 0.6


def test_copy_attribute_inference_exceeds_holdout(leaked):
    assert leaked["attribute_inference_accuracy"].value > leaked["attribute_inference_accuracy_holdout"].value


def test_independent_rows_look_private(independent):
    assert abs(independent["mia_auc"].value - 0.5) < 0.1
    assert abs(independent["dcr_closer_to_train_share"].value - 0.5) < 0.1
    assert independent["exact_match_rate_synthetic"].value == 0.0
    assert independent["dcr_p5_synthetic"].value > 0.0


def test_gate_metric_names_present(independent):
    for name in ("exact_match_rate_synthetic", "exact_match_rate_holdout", "dcr_p5_synthetic", "dcr_p5_holdout",
                 "dcr_median_synthetic", "dcr_median_holdout", "dcr_closer_to_train_share",
                 "nndr_median_synthetic", "mia_auc", "attribute_inference_accuracy"):
        assert name in independent
        assert independent[name].value is not None
        assert independent[name].ci_low is not None


def test_nndr_edge_cases():
    ratio = nndr(np.array([0.0, 1.0, 1.0]), np.array([0.0, 2.0, np.inf]))
    assert ratio[0] == 1.0
    assert ratio[1] == 0.5
    assert np.isnan(ratio[2])
