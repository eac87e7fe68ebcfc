"""Tabular diffusion of the TabDDPM family: Gaussian diffusion on numeric columns, multinomial on categories."""

from models_ml.diffusion.model import TabularDiffusion

__all__ = ["TabularDiffusion"]
