"""Shipped networks loaded once and reused: what a long-lived process (a ``medrestore batch``
worker) holds so that a thousand volumes do not load and verify the same weights a thousand times.

    >>> models = LoadedModels()
    >>> restore(volume, options, models=models)   # loads the localizer and the GAN on first use
    >>> restore(other, options, models=models)    # reuses them

Each network is loaded on first use, through the same verified loaders as a single call
(:mod:`.folder`), once per device; results are identical to loading anew. Not thread-safe: one
holder per thread (a batch worker runs one task at a time).
"""
from __future__ import annotations

from typing import Callable, Dict, List, Tuple


class LoadedModels:
    """A cache of loaded shipped networks, keyed by (kind, variant or device)."""

    def __init__(self):
        self._loaded: Dict[Tuple[str, str], object] = {}

    def _get(self, key: Tuple[str, str], load: Callable[[], object]):
        if key not in self._loaded:
            self._loaded[key] = load()
        return self._loaded[key]

    def localizer(self, device: str = "cpu"):
        """The shipped defect localizer (:func:`MedRestoreLib.detection.localizer.load_localizer`)."""
        from ..detection.localizer import load_localizer

        return self._get(("localizer", device), lambda: load_localizer(device=device))

    def gan(self, device: str = "cpu", model_id: str = "inpaint-gan"):
        """The current version of a shipped generator, ``inpaint-gan`` or ``inpaint-unet``
        (:func:`MedRestoreLib.inpainting.gan_filler.load_gan`)."""
        from ..inpainting.gan_filler import load_gan
        from .catalog import current_folder

        return self._get((model_id, device), lambda: load_gan(current_folder(model_id), device=device))

    def slice_network(self, cell: str):
        """The shipped slice imputer of ``cell`` ("lstm" or "srn"), on the CPU (moved per call)."""
        from ..imputation.slices import load_slice_network

        return self._get(("slices", cell), lambda: load_slice_network(cell))

    def loaded(self) -> List[Tuple[str, str]]:
        """What is loaded, in load order: (model, device or variant) pairs."""
        return list(self._loaded)

    def __len__(self) -> int:
        return len(self._loaded)
