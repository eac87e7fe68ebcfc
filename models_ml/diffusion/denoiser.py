"""MLP denoiser with sinusoidal timestep embedding and per-attribute condition embeddings (TabDDPM)."""

from __future__ import annotations

import math

import torch
from torch import nn

from models_ml.conditioning import ConditionEmbedding


def timestep_embedding(timesteps: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps (batch,) -> (batch, dim), as in the DDPM reference code."""
    half = dim // 2
    frequencies = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=timesteps.device) / half)
    angles = timesteps.float()[:, None] * frequencies[None, :]
    embedding = torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)
    if dim % 2:
        embedding = torch.cat([embedding, torch.zeros_like(embedding[:, :1])], dim=1)
    return embedding


class Denoiser(nn.Module):
    """Predicts the Gaussian noise of numeric inputs and the clean-category logits of one-hot blocks.

    Input: x_t (batch, data_dim), timesteps (batch,) in [0, T), condition codes (batch, attributes)
    with 0 meaning "no condition". Output: (batch, data_dim) in the same layout as x_t.
    """

    def __init__(self, data_dim: int, cardinalities: list[int], embedding_dim: int, hidden: list[int], dropout: float = 0.0) -> None:
        super().__init__()
        self.embedding_dim = embedding_dim
        self.time = nn.Sequential(nn.Linear(embedding_dim, embedding_dim), nn.SiLU(), nn.Linear(embedding_dim, embedding_dim))
        self.conditions = ConditionEmbedding(cardinalities, embedding_dim, reduce="sum")
        self.project = nn.Linear(data_dim, embedding_dim)
        layers: list[nn.Module] = []
        dim = embedding_dim
        for width in hidden:
            layers += [nn.Linear(dim, width), nn.ReLU(), nn.Dropout(dropout)]
            dim = width
        layers.append(nn.Linear(dim, data_dim))
        self.network = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        context = self.time(timestep_embedding(timesteps, self.embedding_dim)) + self.conditions(codes)
        return self.network(self.project(x) + context)
