"""Decode generated admission rows into synthetic MIMIC-III tables (PATIENTS, ADMISSIONS, DIAGNOSES_ICD, ICUSTAYS)."""

from equisynth.decoder.decode import DecodeReport, decode
from equisynth.decoder.diagnoses import DiagnosisChoice, DiagnosisChooser

__all__ = ["DecodeReport", "DiagnosisChoice", "DiagnosisChooser", "decode"]
