"""Cosine noise schedule (Nichol and Dhariwal, 2021) and the strided timesteps of the sampler."""

from __future__ import annotations

import math

import numpy as np
import torch


def cosine_alpha_bars(timesteps: int, offset: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """Cumulative signal share alpha_bar_t for t in [0, timesteps), as float64 (timesteps,).

    alpha_bar(t) = cos^2(((t / T) + s) / (1 + s) * pi / 2), normalised so alpha_bar(0) = 1, with
    each step's beta clipped at `max_beta` as in the paper.
    """
    def f(t: float) -> float:
        return math.cos((t / timesteps + offset) / (1 + offset) * math.pi / 2) ** 2

    betas = np.array([min(1 - f(t + 1) / f(t), max_beta) for t in range(timesteps)])
    return torch.from_numpy(np.cumprod(1.0 - betas))


def strided_timesteps(timesteps: int, steps: int) -> list[int]:
    """Descending timesteps visited by the sampler: `steps` evenly spaced values from T-1 down to 0."""
    steps = max(1, min(steps, timesteps))
    return sorted({int(round(t)) for t in np.linspace(timesteps - 1, 0, steps)}, reverse=True)
