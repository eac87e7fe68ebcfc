"""Versioned synthetic releases: gates, MIMIC-III layout CSVs, manifest, data card, DataCite, checksums."""

from equisynth.release.checksums import VerifyReport, verify
from equisynth.release.export import ReleaseRejectedError, ReleaseReport, export

__all__ = ["ReleaseRejectedError", "ReleaseReport", "VerifyReport", "export", "verify"]
