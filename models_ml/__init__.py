"""PyTorch generators of tabular rows with exact conditioning: a conditional GAN and a tabular diffusion model.

Entry points: `models_ml.registry.MODELS` (name -> class), `models_ml.registry.load_model`,
and the common interface of `models_ml.base.TabularGenerator` (fit, sample, save, load).
"""
