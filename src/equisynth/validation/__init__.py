"""Great Expectations suites for real and synthetic tables, their results and Data Docs.

Great Expectations itself is imported only while suites run (`runner.run_suites`).
"""

from equisynth.validation.results import ExpectationOutcome, ValidationSummary, latest_validation_passed
from equisynth.validation.validator import validate

__all__ = ["ExpectationOutcome", "ValidationSummary", "latest_validation_passed", "validate"]
