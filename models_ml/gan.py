"""Conditional GAN of the CTGAN family (Xu et al., 2019) with exact condition inputs.

- Mode-specific normalisation of numeric columns (`DataTransformer(method="gmm")`).
- Generator: residual MLP; `tanh` on normalised scalars, Gumbel-softmax on one-hot blocks.
- Discriminator: PacGAN, scoring `pac` rows at once, so mode collapse is visible to it.
- Loss: Wasserstein with gradient penalty (WGAN-GP, Gulrajani et al., 2017). The penalty is lazy:
  it is computed on every `penalty_every`-th discriminator step with its weight multiplied by
  `penalty_every` (Karras et al., 2020).
- Each training step runs the generator once. Its fake rows train the discriminator, and then the
  generator step scores the same rows against the updated discriminator (as PyTorch's DCGAN example
  does), where CTGAN draws a second batch.
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

        # One flat table over all columns, so a batch is drawn with one searchsorted call. Column j's
        # cumulative weights are shifted by j, so each column owns the interval [j, j + 1].
        n_rows = len(data)
        orders, values, starts, counts, cumulative, condvec_offsets, firsts = [], [], [], [], [], [], []
        total_values = 0
        for j, (category, condvec_offset) in enumerate(self.columns):
            order = np.argsort(category, kind="stable")
            column_values, column_starts, column_counts = np.unique(category[order], return_index=True, return_counts=True)
            weights = np.log1p(column_counts)
            orders.append(order)
            values.append(column_values)
            starts.append(column_starts + j * n_rows)
            counts.append(column_counts)
            cumulative.append(j + np.cumsum(weights / weights.sum()))
            condvec_offsets.append(np.full(len(column_values), condvec_offset))
            firsts.append(total_values)
            total_values += len(column_values)
        self._order = np.concatenate(orders)
        self._values = np.concatenate(values)
        self._starts = np.concatenate(starts)
        self._counts = np.concatenate(counts)
        self._cumulative = np.concatenate(cumulative)
        self._condvec_offsets = np.concatenate(condvec_offsets)
        self._first_value = np.array(firsts, dtype=np.int64)
        self._last_value = np.append(self._first_value[1:], total_values) - 1

    def draw(self, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return row indices (batch,), conditional vectors (batch, condvec_dim) and a mask of rows with one."""
        n_conditions = len(self.columns) - self.n_generated
        from_conditions = rng.random(batch) < (0.5 if self.n_generated else 1.0)
        column = np.where(
            from_conditions,
            self.n_generated + rng.integers(0, max(n_conditions, 1), batch),
            rng.integers(0, max(self.n_generated, 1), batch),
        )
        pick = rng.random(batch)
        within = rng.random(batch)
        value_index = np.searchsorted(self._cumulative, column + pick, side="right")
        # Rounding can leave a column's last cumulative weight a little under j + 1, or push the search below j.
        value_index = value_index.clip(self._first_value[column], self._last_value[column])
        offsets = (within * self._counts[value_index]).astype(np.int64)
        rows = self._order[self._starts[value_index] + offsets]

        condvec = np.zeros((batch, self.condvec_dim), dtype=np.float32)
        with_condvec = np.flatnonzero(self._condvec_offsets[value_index] >= 0)
        chosen = value_index[with_condvec]
        condvec[with_condvec, self._condvec_offsets[chosen] + self._values[chosen]] = 1.0
        return rows, condvec, column < self.n_generated


def _softmax_blocks(logits: torch.Tensor, log: bool) -> torch.Tensor:
    """Apply softmax (or log-softmax) within each block of logits (batch, blocks, size).

    On CPU, several blocks are normalised along dim 1 of the transposed view. PyTorch's CPU kernel
    over a short last dimension is slower: 1.4 to 4.3 times for forward and backward at sizes 2 to 12
    (measured with torch 2.13 on 1 thread of an AMD EPYC, input (500, blocks, size)).
    """
    if logits.device.type == "cpu" and logits.shape[1] > 1:
        transposed = logits.transpose(1, 2)
        normalised = torch.log_softmax(transposed, dim=1) if log else torch.softmax(transposed, dim=1)
        return normalised.transpose(1, 2)
    return torch.log_softmax(logits, dim=-1) if log else torch.softmax(logits, dim=-1)


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
        "penalty_every": 4,
        "gumbel_tau": 0.2,
        "max_modes": 10,
    }

    def __init__(self, params: dict | None = None, seed: int = 0, device: str = "cpu") -> None:
        super().__init__(params, seed, device)
        every = self.params["penalty_every"]
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"invalid gan parameter penalty_every={every!r}: expected a positive integer (1 computes the penalty on every step)")

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
        # The fused Adam kernel updates each parameter tensor in one pass in place of several small operations.
        adam = dict(lr=p["lr"], betas=(0.5, 0.9), weight_decay=p["weight_decay"], fused=self.device.type in ("cpu", "cuda"))
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

    def _activate(
        self, raw: torch.Tensor, noise: torch.Generator | None = None, with_probability: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
        """Apply tanh to normalised scalars and Gumbel-softmax to one-hot blocks, all blocks of a size at once.

        Returns (activated rows, softmax probabilities, log-softmax), each (batch, data_dim) in the
        transformer's layout; the last two are 0 at scalar positions. The probabilities are None
        when `with_probability` is False.
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
            activated.append(_softmax_blocks((logits + gumbel) / self.params["gumbel_tau"], log=False).reshape(x.shape[0], -1))
            log_probability.append(_softmax_blocks(logits, log=True).reshape(x.shape[0], -1))
        activated_rows = self._layout.to_transformer(torch.cat(activated, dim=1))
        log_rows = self._layout.to_transformer(torch.cat(log_probability, dim=1))
        if not with_probability:
            return activated_rows, None, log_rows
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
        return ((norms - 1) ** 2).mean()

    def _penalty_weight(self, step: int) -> float:
        """Return the gradient penalty's weight at discriminator step `step` (counted over all epochs), 0 where it is skipped.

        With `penalty_every` k > 1 the penalty is computed on every k-th step only, with its weight
        multiplied by k, so its average weight stays the same (lazy regularisation, Karras et al.,
        2020, "Analyzing and Improving the Image Quality of StyleGAN").
        """
        every = self.params["penalty_every"]
        return self.params["gradient_penalty"] * every if step % every == 0 else 0.0

    def _draw_fake(self, batch: int, keep_graph: bool) -> tuple:
        """Draw training rows with their conditions and generate one fake row for each, shuffled as CTGAN does.

        Returns (real rows, condition codes, conditional vectors, fake rows, fake log-softmax, fake
        codes, fake conditional vectors). The generator's autograd graph is kept when `keep_graph` is True.
        """
        rows, condvec_np, _ = self._sampler.draw(batch, self.rng)
        rows_t = torch.from_numpy(rows).to(self.device)
        condvec = torch.from_numpy(condvec_np).to(self.device)
        codes = self._codes[rows_t]
        real = self._data[rows_t]
        # Fake rows share the real rows' conditions in a shuffled order.
        shuffle = torch.from_numpy(self.rng.permutation(batch)).to(self.device)
        fake_codes, fake_condvec = codes[shuffle], condvec[shuffle]
        noise = torch.randn(batch, self.params["noise_dim"], device=self.device)
        with torch.set_grad_enabled(keep_graph):
            fake, _, log_probability = self._activate(self.generator(noise, fake_codes, fake_condvec), with_probability=False)
        return real, codes, condvec, fake, log_probability, fake_codes, fake_condvec

    def _train_epoch(self, epoch: int) -> dict[str, float]:
        batch = self._batch_size()
        steps = max(1, math.ceil(len(self._data) / batch))
        discriminator_steps = self.params["discriminator_steps"]
        totals = {"loss_d": 0.0, "loss_g": 0.0}

        for step in range(steps):
            for d_step in range(discriminator_steps):
                real, codes, condvec, fake, log_probability, fake_codes, fake_condvec = self._draw_fake(batch, keep_graph=d_step == discriminator_steps - 1)
                # Real and fake rows go through the discriminator in one call. Both halves are whole packs
                # because the batch is a multiple of pac.
                real_features = self.discriminator.features(real, codes, condvec)
                fake_features = self.discriminator.features(fake.detach(), fake_codes, fake_condvec)
                scores = self.discriminator(torch.cat([real_features, fake_features]))
                real_scores, fake_scores = scores.chunk(2)
                loss_d = fake_scores.mean() - real_scores.mean()
                weight = self._penalty_weight((epoch * steps + step) * discriminator_steps + d_step)
                if weight > 0:
                    loss_d = loss_d + weight * self._gradient_penalty(real_features, fake_features)
                self.optimiser_d.zero_grad(set_to_none=True)
                loss_d.backward()
                self.optimiser_d.step()

            # The generator step scores the last discriminator step's fake rows against the updated
            # discriminator, as PyTorch's DCGAN example does, so each step runs the generator forward once.
            # The generator's weights have not changed since those rows were made, so their graph is valid.
            # The discriminator's weights are frozen here, so backward skips their unused gradients.
            self.discriminator.requires_grad_(False)
            score = self.discriminator(self.discriminator.features(fake, fake_codes, fake_condvec)).mean()
            loss_g = -score + self._condvec_loss(log_probability, fake_condvec)
            self.optimiser_g.zero_grad(set_to_none=True)
            loss_g.backward()
            self.optimiser_g.step()
            self.discriminator.requires_grad_(True)

            totals["loss_d"] += loss_d.item()
            totals["loss_g"] += loss_g.item()
        return {name: value / steps for name, value in totals.items()}

    def _generate(self, codes: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        noise = torch.randn(codes.shape[0], self.params["noise_dim"], generator=generator, device=self.device)
        condvec = torch.zeros(codes.shape[0], self._condvec_dim, device=self.device)
        raw = self.generator(noise, codes, condvec)
        activated, probability, _ = self._activate(raw, noise=generator)
        return activated, probability
