"""Built-in MIMIC-III-shaped sample: simulated patients in the full release's file layout.

The sample is drawn from published aggregate figures of MIMIC-III v1.4 (see `figures`), contains
no real patient record, and is meant for trying the tool and for measuring its speed, not for
research.
"""

from equisynth.sample.generate import TABLES, write_sample

__all__ = ["TABLES", "write_sample"]
