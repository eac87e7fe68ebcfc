"""Load MIMIC-III v1.4 CSV files (full release or open demo) into the DuckDB warehouse."""

from equisynth.loader.load import LoadReport, load_raw
from equisynth.loader.tables import OPTIONAL_TABLES, REQUIRED_TABLES, STANDARD_TABLES, TABLES

__all__ = ["LoadReport", "load_raw", "TABLES", "REQUIRED_TABLES", "STANDARD_TABLES", "OPTIONAL_TABLES"]
