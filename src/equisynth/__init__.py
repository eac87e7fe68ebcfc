"""equisynth: synthetic MIMIC-III patients that rebalance under-represented groups."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("equisynth")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
