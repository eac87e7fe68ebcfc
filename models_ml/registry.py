"""Model families by name, and loading a saved model whatever its family."""

from __future__ import annotations

import json
from pathlib import Path

from models_ml import artefact
from models_ml.base import TabularGenerator
from models_ml.diffusion import TabularDiffusion
from models_ml.gan import ConditionalGAN

MODELS: dict[str, type[TabularGenerator]] = {"gan": ConditionalGAN, "diffusion": TabularDiffusion}


def model_class(name: str) -> type[TabularGenerator]:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}") from None


def load_model(path: Path, device: str = "cpu") -> TabularGenerator:
    """Load a model folder written by `save` or `save_checkpoint`; raise ArtefactError when unusable."""
    manifest = Path(path) / artefact.MANIFEST
    try:
        name = json.loads(manifest.read_text(encoding="utf-8")).get("model")
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
        raise artefact.ArtefactError(f"Model manifest {manifest} cannot be read ({exc}). Train the model again.") from exc
    if name not in MODELS:
        raise artefact.ArtefactError(f"Model manifest {manifest} names model {name!r}, not one of {', '.join(MODELS)}.")
    try:
        return MODELS[name].load(Path(path), device)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise artefact.ArtefactError(f"Model folder {path} does not match the {name} model ({exc}). Train the model again.") from exc
