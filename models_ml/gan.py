"""Conditional GAN of the CTGAN family (Xu et al., 2019) with exact condition inputs.

- Mode-specific normalisation of numeric columns (`DataTransformer(method="gmm")`).
- Generator: residual MLP; `tanh` on normalised scalars, Gumbel-softmax on one-hot blocks.
- Discriminator: PacGAN, scoring `pac` rows at once, so mode collapse is visible to it.
- Loss: Wasserstein with gradient penalty (WGAN-GP, Gulrajani et al., 2017).
- Training-by-sampling: each training row is drawn by picking a categorical or binary column, then one of its
  values with probability proportional to log(1 + frequency), then a row with that value, so rare
  values are learned. For a generated column the pick also becomes a conditional vector given to
  both networks, with a cross-entropy loss that makes the generator honour it. For a condition
  attribute the conditional vector stays zero, and sampling always uses a zero vector, so
  generated rows follow the model's distribution given the conditions alone.
- Condition attributes are embedded (one table per attribute) and given to both networks.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models_ml.base import TabularGenerator
from models_ml.conditioning import ConditionEmbedding
from models_ml.diffusion.multinomial import BlockLayout

log = logging.getLogger(__name__)


class Residual(nn.Module):
    """Linear, batch norm, ReLU; the output is concatenated to the input (CTGAN's generator block)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_dim, out_dim)
        self.norm = nn.BatchNorm1d(out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.norm(self.linear(x))), x], dim=1)


class Generator(nn.Module):
    """Maps (noise, condition codes, conditional vector) to raw outputs (batch, data_dim)."""

    def __init__(self, noise_dim: int, cardinalities: list[int], embedding_dim: int, condvec_dim: int, hidden: list[int], data_dim: int) -> None:
        super().__init__()
        self.embedding = ConditionEmbedding(cardinalities, embedding_dim)
        dim = noise_dim + self.embedding.output_dim + condvec_dim
        blocks = []
        for width in hidden:
            blocks.append(Residual(dim, width))
            dim += width
        self.blocks = nn.Sequential(*blocks)
        self.output = nn.Linear(dim, data_dim)

    def forward(self, noise: torch.Tensor, codes: torch.Tensor, condvec: torch.Tensor) -> torch.Tensor:
        return self.output(self.blocks(torch.cat([noise, self.embedding(codes), condvec], dim=1)))


class Discriminator(nn.Module):
    """Scores packs of `pac` rows: input (batch, features) with batch a multiple of `pac`; output (batch / pac, 1)."""

    def __init__(self, data_dim: int, cardinalities: list[int], embedding_dim: int, condvec_dim: int, hidden: list[int], pac: int) -> None:
        super().__init__()
        self.pac = pac
        self.embedding = ConditionEmbedding(cardinalities, embedding_dim)
        dim = (data_dim + self.embedding.output_dim + condvec_dim) * pac
        layers: list[nn.Module] = []
        for width in hidden:
            layers += [nn.Linear(dim, width), nn.LeakyReLU(0.2), nn.Dropout(0.5)]
            dim = width
        layers.append(nn.Linear(dim, 1))
        self.network = nn.Sequential(*layers)

    def features(self, rows: torch.Tensor, codes: torch.Tensor, condvec: torch.Tensor) -> torch.Tensor:
        return torch.cat([rows, self.embedding(codes), condvec], dim=1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.network(features.reshape(-1, features.shape[1] * self.pac))


class TrainingSampler:
    """Training-by-sampling: draws (row indices, conditional vectors) with log-frequency weights.

    Columns are the generated one-hot blocks, which set the conditional vector, and the
    condition attributes, which leave it zero. Half of the draws pick a condition attribute.
    """

    def __init__(self, data: np.ndarray, codes: np.ndarray, spans: list, condvec_dim: int) -> None:
        self.condvec_dim = condvec_dim
        self.columns = []  # (category per row, condvec offset or -1)
        offset = 0
        for span in spans:
            self.columns.append((data[:, span.start:span.stop].argmax(axis=1), offset))
            offset += span.size
        self.n_generated = len(self.columns)
        for j in range(codes.shape[1]):
            self.columns.append((codes[:, j], -1))

        self.tables = []
        for category, _ in self.columns:
            order = np.argsort(category, kind="stable")
            values, starts, counts = np.unique(category[order], return_index=True, return_counts=True)
            weights = np.log1p(counts)
            self.tables.append((order, values, starts, counts, np.cumsum(weights / weights.sum())))

    def draw(self, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return row indices (batch,), conditional vectors (batch, condvec_dim) and a mask of rows with one."""
        n_conditions = len(self.columns) - self.n_generated
        from_conditions = rng.random(batch) < (0.5 if self.n_generated else 1.0)
        column = np.where(
            from_conditions,
            self.n_generated + rng.integers(0, max(n_conditions, 1), batch),
            rng.integers(0, max(self.n_generated, 1), batch),
        )
        rows = np.zeros(batch, dtype=np.int64)
        condvec = np.zeros((batch, self.condvec_dim), dtype=np.float32)
        pick = rng.random(batch)
        within = rng.random(batch)
        for j in np.unique(column):
            members = np.flatnonzero(column == j)
            order, values, starts, counts, cumulative = self.tables[j]
            value_index = np.searchsorted(cumulative, pick[members], side="right").clip(max=len(values) - 1)
            offsets = (within[members] * counts[value_index]).astype(np.int64)
            rows[members] = order[starts[value_index] + offsets]
            category, condvec_offset = self.columns[j]
            if condvec_offset >= 0:
                condvec[members, condvec_offset + values[value_index]] = 1.0
        return rows, condvec, column < self.n_generated


class ConditionalGAN(TabularGenerator):
    """Conditional WGAN-GP with PacGAN and training-by-sampling; see the module docstring."""

    name = "gan"
    transformer_method = "gmm"
    default_params = {
        "noise_dim": 128,
        "embedding_dim": 8,
        "generator_dims": [256, 256],
        "discriminator_dims": [256, 256],
        "pac": 10,
        "batch_size": 500,
        "lr": 2e-4,
        "weight_decay": 1e-6,
        "discriminator_steps": 1,
        "gradient_penalty": 10.0,
        "gumbel_tau": 0.2,
        "max_modes": 10,
    }

    def _build(self) -> None:
        p = self.params
        self._layout = BlockLayout(self.transformer.spans, self.device)
        # Training-by-sampling covers categorical and binary columns. Counts encoded as categories are left out
        # because their values are ordered and each adds up to 20 inputs to both networks.
        kinds = {info["name"]: info["kind"] for info in self.transformer.columns}
        self._condvec_spans = [s for s in self.transformer.spans_of_kind("categorical") if kinds[s.column] in ("categorical", "binary")]
        self._condvec_dim = sum(s.size for s in self._condvec_spans)
        # Column of the generator output behind each position of the conditional vector.
        self._condvec_positions = torch.tensor(
            [position for span in self._condvec_spans for position in range(span.start, span.stop)], dtype=torch.long, device=self.device
        )
        cardinalities = self.conditions.cardinalities
        data_dim = self.transformer.output_dim

        self.generator = Generator(p["noise_dim"], cardinalities, p["embedding_dim"], self._condvec_dim, p["generator_dims"], data_dim).to(self.device)
        self.discriminator = Discriminator(data_dim, cardinalities, p["embedding_dim"], self._condvec_dim, p["discriminator_dims"], p["pac"]).to(self.device)
        adam = dict(lr=p["lr"], betas=(0.5, 0.9), weight_decay=p["weight_decay"])
        self.optimiser_g = torch.optim.Adam(self.generator.parameters(), **adam)
        self.optimiser_d = torch.optim.Adam(self.discriminator.parameters(), **adam)
        if hasattr(self, "_data"):
            self._after_data_attached()

    def _after_data_attached(self) -> None:
        self._sampler = TrainingSampler(self._data.cpu().numpy(), self._codes.cpu().numpy(), self._condvec_spans, self._condvec_dim)

    def _modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "discriminator": self.discriminator}

    def _optimisers(self) -> dict[str, torch.optim.Optimizer]:
        return {"generator": self.optimiser_g, "discriminator": self.optimiser_d}

    def _batch_size(self) -> int:
        pac = self.params["pac"]
        batch = min(self.params["batch_size"], len(self._data))
        return max(pac, batch - batch % pac)

    def _activate(self, raw: torch.Tensor, noise: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Apply tanh to normalised scalars and Gumbel-softmax to one-hot blocks, all blocks of a size at once.

        Returns (activated rows, softmax probabilities, log-softmax), each (batch, data_dim) in the
        transformer's layout; the last two are 0 at scalar positions.
        """
        x = self._layout.to_model(raw)
        n_numeric = self._layout.n_numeric
        activated = [torch.tanh(x[:, :n_numeric])]
        log_probability = [torch.zeros_like(x[:, :n_numeric])]
        for group in self._layout.groups:
            logits = group.view(x)
            if noise is not None:
                uniform = torch.rand(logits.shape, generator=noise, device=logits.device)
            else:
                uniform = torch.rand_like(logits)
            gumbel = -torch.log(-torch.log(uniform.clamp(1e-10, 1 - 1e-10)))
            activated.append(torch.softmax((logits + gumbel) / self.params["gumbel_tau"], dim=-1).reshape(x.shape[0], -1))
            log_probability.append(torch.log_softmax(logits, dim=-1).reshape(x.shape[0], -1))
        activated_rows = self._layout.to_transformer(torch.cat(activated, dim=1))
        log_rows = self._layout.to_transformer(torch.cat(log_probability, dim=1))
        probability = log_rows.exp()
        probability[:, self._layout.order[:n_numeric]] = 0.0
        return activated_rows, probability, log_rows

    def _condvec_loss(self, log_probability: torch.Tensor, condvec: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the generator's output on the value each conditional vector names (0 rows without one)."""
        if self._condvec_dim == 0:
            return log_probability.new_zeros(())
        chosen = log_probability.index_select(1, self._condvec_positions)
        return -(chosen * condvec).sum() / log_probability.shape[0]

    def _gradient_penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        pac = self.params["pac"]
        alpha = torch.rand(real.shape[0] // pac, 1, 1, device=real.device).expand(-1, pac, real.shape[1]).reshape(real.shape)
        mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        scores = self.discriminator(mixed)
        gradients = torch.autograd.grad(scores.sum(), mixed, create_graph=True)[0]
        norms = gradients.reshape(-1, pac * real.shape[1]).norm(2, dim=1)
        return ((norms - 1) ** 2).mean() * self.params["gradient_penalty"]

    def _train_epoch(self, epoch: int) -> dict[str, float]:
        batch = self._batch_size()
        steps = max(1, math.ceil(len(self._data) / batch))
        noise_dim = self.params["noise_dim"]
        totals = {"loss_d": 0.0, "loss_g": 0.0}

        for _ in range(steps):
            for _ in range(self.params["discriminator_steps"]):
                rows, condvec_np, _ = self._sampler.draw(batch, self.rng)
                rows_t = torch.from_numpy(rows).to(self.device)
                condvec = torch.from_numpy(condvec_np).to(self.device)
                codes = self._codes[rows_t]
                real = self._data[rows_t]
                # Fake rows share the real rows' conditions, in a shuffled order (as CTGAN does).
                shuffle = torch.from_numpy(self.rng.permutation(batch)).to(self.device)
                fake_codes, fake_condvec = codes[shuffle], condvec[shuffle]
                noise = torch.randn(batch, noise_dim, device=self.device)
                fake, _, _ = self._activate(self.generator(noise, fake_codes, fake_condvec))

                real_features = self.discriminator.features(real, codes, condvec)
                fake_features = self.discriminator.features(fake.detach(), fake_codes, fake_condvec)
                loss_d = self.discriminator(fake_features).mean() - self.discriminator(real_features).mean()
                penalty = self._gradient_penalty(real_features, fake_features)
                self.optimiser_d.zero_grad(set_to_none=True)
                (loss_d + penalty).backward()
                self.optimiser_d.step()

            rows, condvec_np, _ = self._sampler.draw(batch, self.rng)
            codes = self._codes[torch.from_numpy(rows).to(self.device)]
            condvec = torch.from_numpy(condvec_np).to(self.device)
            noise = torch.randn(batch, noise_dim, device=self.device)
            raw = self.generator(noise, codes, condvec)
            fake, _, log_probability = self._activate(raw)
            score = self.discriminator(self.discriminator.features(fake, codes, condvec)).mean()
            loss_g = -score + self._condvec_loss(log_probability, condvec)
            self.optimiser_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.optimiser_g.step()

            totals["loss_d"] += (loss_d + penalty).item()
            totals["loss_g"] += loss_g.item()
        return {name: value / steps for name, value in totals.items()}

    def _generate(self, codes: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        noise = torch.randn(codes.shape[0], self.params["noise_dim"], generator=generator, device=self.device)
        condvec = torch.zeros(codes.shape[0], self._condvec_dim, device=self.device)
        raw = self.generator(noise, codes, condvec)
        activated, probability, _ = self._activate(raw, noise=generator)
        return activated, probability
