"""Seeding and CPU threads for reproducible training and sampling.

Same seed, same data and same device give the same rows: Python, NumPy and torch are seeded,
torch uses deterministic kernels where it has them, and the thread count is fixed (a different
count can change the order of floating-point sums on CPU).
"""

import logging
import os

log = logging.getLogger(__name__)


def default_threads() -> int:
    """Half the CPU cores, at least 1 and at most 8, leaving room for DuckDB and the shell."""
    return max(1, min(8, (os.cpu_count() or 2) // 2))


def seed_everything(seed: int, threads: int | None = None) -> None:
    """Seed Python, NumPy and torch and set torch's CPU threads (default: `default_threads()`)."""
    import torch

    from models_ml.base import seed_everything as seed_libraries

    torch.set_num_threads(threads or default_threads())
    seed_libraries(seed)
    log.debug("seeded with %d, torch threads %d", seed, torch.get_num_threads())


def resolve_device(device: str) -> str:
    """Return `device` when torch can use it; raise a ConfigError naming the fix otherwise."""
    import torch

    from equisynth.errors import ConfigError

    if device not in ("cpu", "cuda"):
        raise ConfigError(f"Device {device!r} is not supported; use cpu or cuda.")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("Device cuda was requested but torch sees no CUDA GPU. Use --device cpu.")
    return device
