"""Multinomial diffusion (Hoogeboom et al., 2021) over many one-hot blocks of different sizes at once.

`BlockLayout` reorders the encoded columns so that numeric columns come first and one-hot
blocks of equal size sit side by side; each group of equal-size blocks is then a view of shape
(batch, blocks, categories), and every diffusion step is one vectorised operation per group.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class BlockGroup:
    """`blocks` one-hot blocks of `size` categories each, stored from `start` in the reordered layout."""

    start: int
    blocks: int
    size: int

    @property
    def stop(self) -> int:
        return self.start + self.blocks * self.size

    def view(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start:self.stop].reshape(x.shape[0], self.blocks, self.size)


class BlockLayout:
    """Permutation of the transformer's layout into [numeric columns | groups of equal-size blocks]."""

    def __init__(self, spans: list, device: torch.device) -> None:
        numeric = [span.start for span in spans if span.kind == "numeric"]
        onehot = [span for span in spans if span.kind != "numeric"]
        order = list(numeric)
        self.groups: list[BlockGroup] = []
        for size in sorted({span.size for span in onehot}):
            members = [span for span in onehot if span.size == size]
            self.groups.append(BlockGroup(len(order), len(members), size))
            for span in members:
                order.extend(range(span.start, span.stop))
        self.n_numeric = len(numeric)
        self.order = torch.tensor(order, dtype=torch.long, device=device)
        self.inverse = torch.argsort(self.order)

    def to_model(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(1, self.order)

    def to_transformer(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(1, self.inverse)


def sample_one_hot(probability: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one category per block from probabilities (batch, blocks, size); return one-hot of that shape."""
    if generator is not None:
        uniform = torch.rand(probability.shape, generator=generator, device=probability.device)
    else:
        uniform = torch.rand_like(probability)
    gumbel = -torch.log(-torch.log(uniform.clamp(1e-10, 1 - 1e-10)))
    choice = (torch.log(probability.clamp_min(1e-30)) + gumbel).argmax(dim=-1)
    return torch.nn.functional.one_hot(choice, probability.shape[-1]).to(probability.dtype)


def noised(x0: torch.Tensor, alpha_bar: torch.Tensor) -> torch.Tensor:
    """q(x_t | x_0) = alpha_bar x_0 + (1 - alpha_bar) / K, for x0 (batch, blocks, K) and alpha_bar (batch, 1, 1)."""
    return alpha_bar * x0 + (1 - alpha_bar) / x0.shape[-1]


def posterior(x_t: torch.Tensor, x0_probability: torch.Tensor, alpha_bar_t: torch.Tensor, alpha_bar_s: torch.Tensor) -> torch.Tensor:
    """q(x_s | x_t, x_0) for s < t, with x_0 replaced by predicted probabilities (one strided step).

    Proportional to [a_ts x_t + (1 - a_ts) / K] * [a_s x_0 + (1 - a_s) / K], where a_ts = a_t / a_s.
    """
    k = x_t.shape[-1]
    alpha_ts = alpha_bar_t / alpha_bar_s
    likelihood = alpha_ts * x_t + (1 - alpha_ts) / k
    prior = alpha_bar_s * x0_probability + (1 - alpha_bar_s) / k
    unnormalised = likelihood * prior
    return unnormalised / unnormalised.sum(dim=-1, keepdim=True)
