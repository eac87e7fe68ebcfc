"""Conditional tabular diffusion (TabDDPM, Kotelnikov et al., 2023) with classifier-free guidance.

Numeric columns are quantile-normalised to a standard normal and diffused with Gaussian noise.
One-hot blocks (categories, binary flags, small counts, missing indicators) are diffused with
multinomial noise towards the uniform distribution. Both follow one cosine schedule over
`timesteps` steps. For numeric inputs the denoiser predicts the velocity
v = sqrt(alpha_bar) noise - sqrt(1 - alpha_bar) x_0 (Salimans and Ho, 2022) rather than the
noise itself. At high noise levels the noise is almost the input, which a small MLP trained for
a few thousand steps copies badly, and those errors widened the sampled columns. For each one-hot
block it predicts the logits of the clean category. The categorical loss is the cross-entropy of
those logits, a common simplification of the multinomial variational bound.

Conditions are embedded and dropped (index 0) on `condition_dropout` of training rows, so one
network is both conditional and unconditional; sampling mixes the two with `guidance_scale`
(Ho and Salimans, 2022): 1 is the plain conditional model, above 1 strengthens the conditions.

Sampling is deterministic DDIM (eta = 0) on numeric columns and the multinomial posterior on
categories, both over `sampling_steps` strided timesteps instead of all `timesteps`.
"""

from __future__ import annotations

import copy
import logging
import math

import torch
from torch.nn import functional as F

from models_ml.base import TabularGenerator
from models_ml.diffusion import multinomial
from models_ml.diffusion.denoiser import Denoiser
from models_ml.diffusion.schedule import cosine_alpha_bars, strided_timesteps

log = logging.getLogger(__name__)

# Quantile-normalised values lie within about +-5.2 (the 1e-7 clipping of the CDF).
X0_CLIP = 5.5
# Draws of timesteps and noise averaged in the held-back loss, so its changes reflect the model, not the draw.
VALIDATION_DRAWS = 8


class TabularDiffusion(TabularGenerator):
    """Gaussian + multinomial diffusion with an MLP denoiser; see the module docstring."""

    name = "diffusion"
    transformer_method = "quantile"
    default_params = {
        "timesteps": 1000,
        "sampling_steps": 50,
        "guidance_scale": 1.0,
        "condition_dropout": 0.1,
        "embedding_dim": 128,
        "hidden_dims": [256, 256, 256],
        "dropout": 0.0,
        "batch_size": 500,
        "lr": 1e-3,
        "weight_decay": 1e-5,
        "ema_decay": 0.999,
        "validation_fraction": 0.1,
        "patience": 30,
    }

    def _build(self) -> None:
        p = self.params
        self._layout = multinomial.BlockLayout(self.transformer.spans, self.device)
        self._alpha_bars = cosine_alpha_bars(p["timesteps"]).float().to(self.device)

        self.denoiser = Denoiser(self.transformer.output_dim, self.conditions.cardinalities, p["embedding_dim"], p["hidden_dims"], p["dropout"]).to(self.device)
        self.optimiser = torch.optim.AdamW(self.denoiser.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
        # Sampling uses an exponential moving average of the weights (as TabDDPM does): the last weights of a
        # run trained at a constant rate shift and widen the numeric outputs by chance.
        self.denoiser_ema = copy.deepcopy(self.denoiser).requires_grad_(False)

    def _modules(self) -> dict[str, torch.nn.Module]:
        return {"denoiser": self.denoiser, "denoiser_ema": self.denoiser_ema}

    def _optimisers(self) -> dict[str, torch.optim.Optimizer]:
        return {"denoiser": self.optimiser}

    # ---- training ------------------------------------------------------------------------------------

    def _train_epoch(self, epoch: int) -> dict[str, float]:
        batch = min(self.params["batch_size"], len(self._data))
        order = torch.randperm(len(self._data), device=self.device)
        steps = max(1, math.ceil(len(self._data) / batch))
        totals = {"loss_numeric": 0.0, "loss_categorical": 0.0}

        for step in range(steps):
            index = order[step * batch:(step + 1) * batch]
            loss_numeric, loss_categorical = self._loss(self._layout.to_model(self._data[index]), self._codes[index])
            self.optimiser.zero_grad(set_to_none=True)
            (loss_numeric + loss_categorical).backward()
            self.optimiser.step()
            self._update_ema(epoch * steps + step)
            totals["loss_numeric"] += loss_numeric.item()
            totals["loss_categorical"] += loss_categorical.item()
        return {name: value / steps for name, value in totals.items()}

    @torch.no_grad()
    def _update_ema(self, updates_done: int) -> None:
        """Move the averaged weights towards the trained ones; the decay ramps up over the first updates."""
        decay = min(self.params["ema_decay"], (1 + updates_done) / (10 + updates_done))
        for averaged, current in zip(self.denoiser_ema.parameters(), self.denoiser.parameters()):
            averaged.lerp_(current, 1 - decay)

    def _loss(self, x0: torch.Tensor, codes: torch.Tensor, denoiser: Denoiser | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Noise a batch (reordered layout) at random timesteps and score the predictions of `denoiser` (default: the trained one)."""
        n, n_numeric = x0.shape[0], self._layout.n_numeric
        t = torch.randint(0, self.params["timesteps"], (n,), device=self.device)
        alpha_bar = self._alpha_bars[t][:, None]

        noise = torch.randn(n, n_numeric, device=self.device)
        parts = [alpha_bar.sqrt() * x0[:, :n_numeric] + (1 - alpha_bar).sqrt() * noise]
        for group in self._layout.groups:
            probability = multinomial.noised(group.view(x0), alpha_bar[:, :, None])
            parts.append(multinomial.sample_one_hot(probability).reshape(n, -1))
        x_t = torch.cat(parts, dim=1)

        dropped = torch.rand(n, device=self.device) < self.params["condition_dropout"]
        prediction = (denoiser or self.denoiser)(x_t, t, codes.masked_fill(dropped[:, None], 0))

        velocity = alpha_bar.sqrt() * noise - (1 - alpha_bar).sqrt() * x0[:, :n_numeric]
        loss_numeric = F.mse_loss(prediction[:, :n_numeric], velocity) if n_numeric else x0.new_zeros(())
        loss_categorical = x0.new_zeros(())
        blocks = sum(group.blocks for group in self._layout.groups)
        for group in self._layout.groups:
            logits = group.view(prediction).reshape(-1, group.size)
            target = group.view(x0).argmax(dim=-1).reshape(-1)
            loss_categorical = loss_categorical + F.cross_entropy(logits, target, reduction="sum") / (n * blocks)
        return loss_numeric, loss_categorical

    def _validation_loss(self, data: torch.Tensor, codes: torch.Tensor) -> float:
        """Return the mean loss of the averaged weights on held-back rows, over fixed draws of timesteps and noise."""
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []), torch.no_grad():
            torch.manual_seed(self.seed)
            x0 = self._layout.to_model(data)
            total = 0.0
            for _ in range(VALIDATION_DRAWS):
                loss_numeric, loss_categorical = self._loss(x0, codes, self.denoiser_ema)
                total += (loss_numeric + loss_categorical).item()
        return total / VALIDATION_DRAWS

    # ---- sampling -------------------------------------------------------------------------------------

    def _predict(self, x_t: torch.Tensor, t: int, codes: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Return the guided velocity prediction (batch, numeric) and log-probabilities of x_0 per block group."""
        timesteps = torch.full((x_t.shape[0],), t, dtype=torch.long, device=self.device)
        scale = self.params["guidance_scale"]
        if scale == 1.0:
            return self._split_prediction(self.denoiser_ema(x_t, timesteps, codes))

        both = self.denoiser_ema(torch.cat([x_t, x_t]), torch.cat([timesteps, timesteps]), torch.cat([codes, torch.zeros_like(codes)]))
        velocity, log_probabilities = self._split_prediction(both)
        half = x_t.shape[0]
        velocity = velocity[half:] + scale * (velocity[:half] - velocity[half:])
        guided = [torch.log_softmax(lp[half:] + scale * (lp[:half] - lp[half:]), dim=-1) for lp in log_probabilities]
        return velocity, guided

    def _split_prediction(self, output: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        velocity = output[:, :self._layout.n_numeric]
        return velocity, [torch.log_softmax(group.view(output), dim=-1) for group in self._layout.groups]

    def _generate(self, codes: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        n, n_numeric = codes.shape[0], self._layout.n_numeric
        numeric = torch.randn(n, n_numeric, generator=generator, device=self.device)
        blocks = [
            multinomial.sample_one_hot(torch.full((n, g.blocks, g.size), 1.0 / g.size, device=self.device), generator)
            for g in self._layout.groups
        ]
        x0_probability = [block.clone() for block in blocks]

        timesteps = strided_timesteps(self.params["timesteps"], self.params["sampling_steps"])
        for i, t in enumerate(timesteps):
            s = timesteps[i + 1] if i + 1 < len(timesteps) else None
            alpha_t = self._alpha_bars[t]
            alpha_s = self._alpha_bars[s] if s is not None else torch.ones((), device=self.device)
            x_t = torch.cat([numeric, *[block.reshape(n, -1) for block in blocks]], dim=1)
            velocity, log_probabilities = self._predict(x_t, t, codes)

            # Deterministic DDIM step (eta = 0) with the predicted clean value clipped to the data range.
            x0 = (alpha_t.sqrt() * numeric - (1 - alpha_t).sqrt() * velocity).clamp(-X0_CLIP, X0_CLIP)
            eps = (numeric - alpha_t.sqrt() * x0) / (1 - alpha_t).sqrt()
            numeric = alpha_s.sqrt() * x0 + (1 - alpha_s).sqrt() * eps

            x0_probability = [lp.exp() for lp in log_probabilities]
            if s is None:
                blocks = [multinomial.sample_one_hot(p, generator) for p in x0_probability]
            else:
                blocks = [
                    multinomial.sample_one_hot(multinomial.posterior(block, p, alpha_t, alpha_s), generator)
                    for block, p in zip(blocks, x0_probability)
                ]

        values = torch.cat([numeric, *[block.reshape(n, -1) for block in blocks]], dim=1)
        probability = torch.cat([torch.zeros_like(numeric), *[p.reshape(n, -1) for p in x0_probability]], dim=1)
        return self._layout.to_transformer(values), self._layout.to_transformer(probability)
