"""Model artefacts on disk: a folder with `manifest.json` and `tensors.pt`.

The manifest contains the fitted transformer, the schema, the condition vocabularies, the seed, the
library versions and the SHA-256 of `tensors.pt`, so a truncated or edited file is detected on
load. Tensors are read with `torch.load(weights_only=True)`, which never runs pickled code.
A folder is written under a staging name and renamed into place, so a reader never sees half of it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

from equisynth.errors import EquisynthError

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
TENSORS = "tensors.pt"
FORMAT_VERSION = 2
LIBRARIES = ("equisynth", "torch", "numpy", "pandas", "scikit-learn", "scipy")


class ArtefactError(EquisynthError):
    """A model folder that is missing, incomplete or corrupt."""


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write(folder: Path, state: dict, tensors: dict) -> None:
    """Write `state` (JSON-ready) and `tensors` (torch objects) to `folder`, replacing it atomically."""
    staging = folder.with_name(folder.name + ".staging")
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)

    torch.save(tensors, staging / TENSORS)
    manifest = {
        "format_version": FORMAT_VERSION,
        "libraries": library_versions(),
        "files": {TENSORS: _sha256(staging / TENSORS)},
        **state,
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")

    previous = folder.with_name(folder.name + ".previous")
    if folder.exists():
        if previous.exists():
            shutil.rmtree(previous)
        folder.rename(previous)
    staging.rename(folder)
    if previous.exists():
        shutil.rmtree(previous)
    log.debug("wrote model artefact %s", folder)


def read(folder: Path) -> tuple[dict, dict]:
    """Return (state, tensors) from `folder`; raise ArtefactError when it is missing or corrupt."""
    manifest_path = folder / MANIFEST
    tensors_path = folder / TENSORS
    if not manifest_path.exists() or not tensors_path.exists():
        raise ArtefactError(
            f"Model folder {folder} is incomplete: {MANIFEST} and {TENSORS} are both needed. "
            "Train the model again with `equisynth train`."
        )
    try:
        state = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtefactError(f"Model manifest {manifest_path} is not valid JSON ({exc}). Train the model again.") from exc
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise ArtefactError(
            f"Model manifest {manifest_path} has format version {state.get('format_version') if isinstance(state, dict) else None!r}, "
            f"expected {FORMAT_VERSION}. Train the model again with this version of equisynth."
        )

    expected = state.get("files", {}).get(TENSORS)
    actual = _sha256(tensors_path)
    if expected != actual:
        raise ArtefactError(
            f"Model weights {tensors_path} are corrupt: SHA-256 {actual[:12]}... does not match "
            f"{str(expected)[:12]}... in {MANIFEST}. Train the model again or restore the folder."
        )
    try:
        tensors = torch.load(tensors_path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for unreadable files
        raise ArtefactError(f"Model weights {tensors_path} cannot be read ({exc}). Train the model again.") from exc
    return state, tensors
