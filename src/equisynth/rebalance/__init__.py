"""Rebalancing: target shares per group and the plan of synthetic rows that meets them."""

from equisynth.rebalance.planner import PLAN_COLUMNS, RebalancePlan, plan_rebalance
from equisynth.rebalance.spec import RebalanceSpec, load_spec

__all__ = ["PLAN_COLUMNS", "RebalancePlan", "RebalanceSpec", "load_spec", "plan_rebalance"]
