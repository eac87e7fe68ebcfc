"""Evaluation of a synthetic generation: fidelity, utility, fairness, privacy and representation, per subgroup."""

from equisynth.evaluation.run import EvaluationSummary, evaluate

__all__ = ["EvaluationSummary", "evaluate"]
