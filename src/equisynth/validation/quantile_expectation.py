"""A quantile expectation whose results Great Expectations can store.

Importing this module imports Great Expectations, so only the validation runner imports it.
"""

import great_expectations.expectations as gxe


class ExpectColumnQuantilesNearReference(gxe.ExpectColumnQuantileValuesToBeBetween):
    """Expect a column's quantiles within ranges around a reference table's quantiles.

    Same check as `expect_column_quantile_values_to_be_between`. On pandas batches GX 1.24 returns
    numpy booleans in that expectation's result, which its own validation result store cannot
    serialise to JSON (TypeError), so this subclass converts them to Python values.
    """

    def _validate(self, metrics, runtime_configuration=None, execution_engine=None):
        outcome = super()._validate(metrics, runtime_configuration, execution_engine)
        result = outcome["result"]
        result["details"]["success_details"] = [bool(flag) for flag in result["details"]["success_details"]]
        observed = result["observed_value"]
        observed["values"] = [None if value is None else float(value) for value in observed["values"]]
        outcome["success"] = bool(outcome["success"])
        return outcome
