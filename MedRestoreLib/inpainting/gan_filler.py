"""The GAN filler: a smooth initial fill corrected by the trained generator on 2.5-D slabs.

    >>> from MedRestoreLib.inpainting.gan_filler import gan_fill
    >>> filled = gan_fill(array, mask)          # only voxels where mask is True differ

Steps: normalise with the known voxels' 0.5/99.5 percentiles (the evaluation protocol's
scale); fill the holes smoothly (:func:`.smooth_fill.smooth_fill`); then, along each of the
three axes, run the generator on tiles around the defects (:mod:`.slab_tiles`) and average the
corrected values of every defect voxel (three; one for dead/hot pixels); clip to the known voxels' range and map back.
Intact regions are never computed. On CUDA the generator runs under autocast (float16).

The model folder (``MedRestoreLib/models/inpaint-gan-v<version>/``) holds ``weights.pt``,
``config.json`` (the training config: network sizes, tiling) and ``metadata.json`` (SHA-256 of
every weights file). Weights are checked against the SHA-256 before
``torch.load(weights_only=True)``, so a truncated or tampered file is refused with an
:class:`InputError` instead of filling silently wrong values.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from ..errors import InputError
from ..intensity import nonzero_window
from ..models.catalog import current_folder
from ..models.folder import load_verified_weights, read_model_folder
from ..progress import Steps

MODEL_ID = "inpaint-gan"  # its current version comes from models/index.json
UNET_MODEL_ID = "inpaint-unet"  # the same network trained without the critic
MAX_BATCH_PIXELS = 48 * 48 * 64  # tile pixels per forward pass by default: bounds memory (~0.3 GB)


@dataclass
class GanModel:
    """A loaded generator and the settings it was trained with."""

    generator: object
    config: dict
    device: str


def load_gan(folder=None, device: str = "cpu", weights: str = "weights.pt") -> GanModel:
    """Load and verify a generator (:mod:`MedRestoreLib.models.folder`); ``folder`` defaults to
    the current ``inpaint-gan`` of ``models/index.json``. ``weights`` names the
    file in the folder: ``weights.pt``, or an ablation variant listed under ``metadata.json``'s
    ``variants``.

    Raises:
        InputError: files missing, SHA-256 mismatch, or weights that do not fit the network.
    """
    import torch

    from .gan_generator import build_generator

    folder = Path(folder) if folder is not None else current_folder(MODEL_ID)
    config, metadata = read_model_folder(folder)
    variant = {} if weights == "weights.pt" else metadata.get("variants", {}).get(weights, {})
    expected = metadata.get("sha256") if weights == "weights.pt" else variant.get("sha256")
    # An ablation variant may have been trained with other fill settings: they travel with it.
    config["model"] = dict(config["model"], **variant.get("model", {}))
    generator = load_verified_weights(build_generator(config["model"]), folder / weights, expected)
    # Channels-last runs the CPU's convolutions about 25 % faster, with identical results.
    generator = generator.to(device=device, memory_format=torch.channels_last).eval()
    return GanModel(generator, config, device)


def _window(known_values: np.ndarray):
    """(low, high) of the protocol's normalisation from the known voxels, or a unit scale when
    they have no contrast (a constant image is then filled with that constant)."""
    window = nonzero_window(known_values)
    if window is not None and window[1] > window[0]:  # one non-zero value has no contrast either
        return float(window[0]), float(window[1])
    low = float(known_values.min())
    return low, low + 1.0


def correct_fill(model: GanModel, filled: np.ndarray, mask: np.ndarray,
                 steps: Optional[Steps] = None, batch_pixels: int = MAX_BATCH_PIXELS) -> np.ndarray:
    """The generator's fused fill of the masked voxels of a normalised, smoothly pre-filled
    float32 array; returns a new float32 array (unmasked voxels unchanged)."""
    import torch

    from .slab_tiles import batches, padding, plan_tiles, small_defects

    settings = model.config["model"]
    half, margin, min_tile = int(settings["half_slab"]), int(settings["tile_margin"]), int(settings["min_tile"])
    small = small_defects(mask, int(settings["small_defect_extent"]))  # dead/hot pixels
    small_tile = int(settings["small_defect_tile"])
    extent = int(settings["small_defect_extent"])
    # A 2-D image or a volume thinner than a slab has no context across slices: its tiles lie in
    # the slices only, the slab's missing slices repeating the edge one (as in training).
    axes = (0,) if mask.shape[0] < 2 * half + 1 else (0, 1, 2)
    tiles = plan_tiles(mask & ~small, margin, min_tile, extent, small_tile, axes=axes) + \
        plan_tiles(small, margin, min_tile, extent, small_tile, axes=(0,))
    pad = padding(margin, min_tile, 4, half)
    padded_fill = np.pad(filled, pad, mode="edge")
    padded_mask = np.pad(mask, pad).astype(np.float32)
    total = np.zeros(filled.shape, np.float32)
    count = np.zeros(filled.shape, np.uint8)
    autocast = model.device.startswith("cuda")
    done = 0
    for group in batches(tiles, batch_pixels):
        slabs = np.empty((len(group), 2 * (2 * half + 1)) + group[0].shape, np.float32)
        for n, tile in enumerate(group):
            window = (slice(tile.index + pad - half, tile.index + pad + half + 1),
                      slice(tile.start[0] + pad, tile.start[0] + pad + tile.shape[0]),
                      slice(tile.start[1] + pad, tile.start[1] + pad + tile.shape[1]))
            slabs[n, : 2 * half + 1] = np.moveaxis(padded_fill, tile.axis, 0)[window]
            slabs[n, 2 * half + 1:] = np.moveaxis(padded_mask, tile.axis, 0)[window]
        inputs = torch.from_numpy(slabs).to(model.device).contiguous(memory_format=torch.channels_last)
        with torch.no_grad(), torch.autocast("cuda", enabled=autocast):
            corrections = model.generator(inputs)[:, 0].float().cpu().numpy()
        for n, tile in enumerate(group):
            rows, columns = tile.voxels
            value = slabs[n, half][rows - tile.start[0], columns - tile.start[1]] + \
                corrections[n][rows - tile.start[0], columns - tile.start[1]]
            np.moveaxis(total, tile.axis, 0)[tile.index, rows, columns] += value
            np.moveaxis(count, tile.axis, 0)[tile.index, rows, columns] += 1
        done += len(group)
        if steps is not None:
            steps.report(done / len(tiles), f"GAN fill, {done}/{len(tiles)} tiles")
    result = filled.copy()
    result[mask] = total[mask] / count[mask]  # one tile per axis (of ``axes``) and defect voxel
    return result


def gan_fill(array, mask, steps: Optional[Steps] = None, model: Optional[GanModel] = None,
             device: str = "cpu", adapt_seconds: float = 0.0, adapt_steps: Optional[int] = None,
             batch_pixels: int = MAX_BATCH_PIXELS, model_id: str = MODEL_ID) -> np.ndarray:
    """Fill the masked voxels of ``array`` (k, j, i) with the GAN filler.

    Args:
        array: float array; masked voxels' values are never read.
        mask: bool array of the same shape, True = defect.
        steps: progress/cancel.
        model: a loaded :class:`GanModel`; by default the current version of ``model_id``.
        device: where to load the shipped model when ``model`` is None.
        model_id: which shipped generator (``inpaint-gan``, adversarial; ``inpaint-unet``,
            reconstruction only) when ``model`` is None.
        adapt_seconds: > 0: first fine-tune a copy of the generator on this volume's intact
            voxels for that long (:mod:`.test_time_adaptation`, seed 0); 0: off.
        adapt_steps: also stop the adaptation after this many steps (a reproducible fill
            whatever the machine's speed); None: the time budget alone.
        batch_pixels: tile pixels per forward pass (memory; the fill is the same for any value,
            which is how the out-of-memory fallback can halve it).

    Returns:
        float64 array; equal to ``array`` outside ``mask``.

    Raises:
        InputError: shapes differ, or every voxel is masked (nothing known to fill from).
    """
    import torch

    from .smooth_fill import smooth_fill

    array = np.asarray(array, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if array.shape != mask.shape or array.ndim != 3:
        raise InputError(f"the GAN filler needs a 3-D array and a mask of its shape; got {array.shape} "
                         f"and {mask.shape}")
    result = array.copy()
    if not mask.any():
        return result
    if mask.all():
        raise InputError("every voxel is masked: there is no known voxel to fill from")
    model = model or load_gan(current_folder(model_id), device=device)
    known_values = array[~mask]
    low, high = _window(known_values)
    settings = model.config["model"]
    region = defect_region(mask, settings)
    sub_array, sub_mask = array[region], mask[region]
    normalised = ((np.where(sub_mask, 0.0, sub_array) - low) / (high - low)).astype(np.float32)
    filled = smooth_fill(torch.from_numpy(normalised), torch.from_numpy(~sub_mask),
                         int(settings["smoothing_iterations"]), settings.get("smoothing_relaxation")).numpy()
    if adapt_seconds > 0:
        from .adaptation import adapt_gan

        model = adapt_gan(model, filled, sub_mask, adapt_seconds, adapt_steps,
                          steps=steps and steps.sub(0.0, 0.8)).model
        steps = steps and steps.sub(0.8, 1.0)
    corrected = correct_fill(model, filled, sub_mask, steps, batch_pixels)
    values = corrected[sub_mask].astype(np.float64) * (high - low) + low
    result[region][sub_mask] = np.clip(values, known_values.min(), known_values.max())
    return result


def defect_region(mask: np.ndarray, settings: dict) -> Tuple[slice, ...]:
    """The bounding box of the defects grown by every tile's and slab's reach (plus one voxel for
    the harmonic sweeps' neighbours), clipped to the volume. Tiles never read outside it, so the
    fill works on this box alone: one 32³ hole in a 256³ scan costs the hole, not the scan."""
    from .slab_tiles import padding

    reach = padding(int(settings["tile_margin"]), int(settings["min_tile"]), 4, int(settings["half_slab"])) + 1
    where = np.nonzero(mask.any(axis=(1, 2))), np.nonzero(mask.any(axis=(0, 2))), np.nonzero(mask.any(axis=(0, 1)))
    return tuple(slice(max(int(found[0][0]) - reach, 0), min(int(found[0][-1]) + 1 + reach, size))
                 for found, size in zip(where, mask.shape))
