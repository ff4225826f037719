"""Per-slice column covariance and correlation, batched in torch on the CPU or a GPU.

Each slice of a (K, J, I) volume is a J×I matrix whose rows j are observations and whose
columns i are variables; its column covariance is the I×I matrix
``numpy.cov(slice, rowvar=False, bias=True)``. Defective columns and lines disturb it (and the
correlation collapses across them), which the detectors use as features.

Precision: columns are centred in float64 before the product, and only the product runs in the
compute dtype (float32 by default, for speed). A large common offset (CT, or 1000 + noise) then
costs no precision: the float32 result matches numpy to a relative 1e-5 of the largest |entry|
of each slice's covariance; ``dtype=torch.float64`` matches to ~1e-12. On CUDA this assumes
torch's default float32 matmul precision ("highest"); TF32 would lose about 3 digits.

Example:
    >>> from MedRestoreLib.covariance import column_covariance
    >>> cov = column_covariance(volume.array, device="auto")   # (K, I, I) float32 numpy
"""
from __future__ import annotations

import time
from typing import Iterator, Tuple

import numpy as np

from .errors import InputError

# Elements per chunk of slices: bounds the float64 centred copy (128 MiB) and its cast.
_CHUNK_ELEMENTS = 1 << 24
# numpy dtypes torch.from_numpy takes and converts to float64 exactly on the device.
_TORCH_FRIENDLY = {np.dtype(t) for t in (np.bool_, np.uint8, np.int8, np.int16, np.int32,
                                         np.int64, np.float16, np.float32, np.float64)}


def _resolve_device(device):
    import torch

    if isinstance(device, str) and device in ("cpu", "cuda", "auto"):
        from .devices import resolve_device

        return torch.device(resolve_device(device))
    if hasattr(device, "value") and not isinstance(device, torch.device):  # options.Device
        from .devices import resolve_device

        return torch.device(resolve_device(device))
    return torch.device(device)


def _resolve_dtype(dtype):
    import torch

    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        resolved = dtype
    else:
        resolved = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}.get(
            np.dtype(dtype))
    if resolved not in (torch.float32, torch.float64):
        raise InputError(f"covariance dtype must be float32 or float64, not {dtype}")
    return resolved


def _check_shape(shape) -> None:
    if len(shape) != 3:
        raise InputError(f"column covariance needs slices of shape (K, J, I); got {tuple(shape)}")
    if shape[1] < 1:
        raise InputError(f"column covariance needs at least one row per slice; got {tuple(shape)}")


def _chunk_to_float64(slices, start: int, stop: int, device):
    """Slices [start, stop) as a float64 tensor on ``device``, moved in their own dtype."""
    import torch

    if isinstance(slices, torch.Tensor):
        chunk = slices[start:stop]
    else:
        chunk = np.asarray(slices[start:stop])
        if chunk.dtype not in _TORCH_FRIENDLY or not chunk.dtype.isnative:
            chunk = chunk.astype(np.float64)  # uint16, big-endian, ...: convert on the host
        chunk = torch.from_numpy(np.ascontiguousarray(chunk))
    return chunk.to(device=device).to(torch.float64)


def _covariance_chunks(slices, device, dtype) -> Iterator[Tuple[int, int, "object", "object"]]:
    """Yield (start, stop, covariance, constant_columns) per chunk of slices, on ``device``."""
    import torch

    k, j, i = slices.shape
    step = max(1, _CHUNK_ELEMENTS // max(1, j * i))
    with torch.no_grad():
        for start in range(0, k, step):
            stop = min(k, start + step)
            chunk = _chunk_to_float64(slices, start, stop, device)
            # A constant column is recognised exactly here; after centring, its variance can be
            # a rounding residue instead of 0 and would give a spurious correlation.
            constant = chunk.amax(dim=1) == chunk.amin(dim=1)
            # Not in place: a float64 input chunk may be the caller's own tensor (a view).
            centred = (chunk - chunk.mean(dim=1, keepdim=True)).to(dtype)
            del chunk
            covariance = torch.bmm(centred.transpose(1, 2), centred)
            covariance /= j
            yield start, stop, covariance, constant


def _prepare(slices, device, dtype):
    import torch

    if not isinstance(slices, torch.Tensor):
        slices = getattr(slices, "array", slices)
        if not isinstance(slices, np.ndarray):
            slices = np.asarray(slices)
    _check_shape(tuple(slices.shape))
    torch_dtype = _resolve_dtype(dtype)
    numpy_dtype = np.float32 if torch_dtype == torch.float32 else np.float64
    return slices, _resolve_device(device), torch_dtype, numpy_dtype


def column_covariance(slices, device="cpu", dtype=None) -> np.ndarray:
    """Column covariance of every slice, ``numpy.cov(slice, rowvar=False, bias=True)`` batched.

    Args:
        slices: (K, J, I) numpy array, torch tensor or Volume; rows j are observations and
            columns i are variables; any real dtype (int16, float32, ...).
        device: ``"cpu"``, ``"cuda"``, ``"auto"`` (CUDA when available) or a torch device.
        dtype: compute dtype of the product, ``torch.float32`` (default) or ``torch.float64``
            (numpy dtypes accepted too).

    Returns:
        numpy array (K, I, I) in the compute dtype; entry [k, a, b] is
        ``mean_j (x[k, j, a] - mean_a) (x[k, j, b] - mean_b)``. A one-row slice gives zeros.

    Raises:
        InputError: the input is not 3-D, has no rows, the dtype is not float32/float64, or
            CUDA was asked for and is not available.
    """
    slices, device, torch_dtype, numpy_dtype = _prepare(slices, device, dtype)
    k, _, i = slices.shape
    result = np.empty((k, i, i), dtype=numpy_dtype)
    for start, stop, covariance, _ in _covariance_chunks(slices, device, torch_dtype):
        result[start:stop] = covariance.cpu().numpy()
    return result


def column_correlation(slices, device="cpu", dtype=None) -> np.ndarray:
    """Column correlation of every slice: covariance / (std_a · std_b), in [-1, 1].

    Same arguments as :func:`column_covariance`. Rows and columns of a zero-variance (constant)
    column are 0, its diagonal entry included, so a dead or saturated column shows as a
    collapse of correlation rather than as NaN.

    Returns:
        numpy array (K, I, I) in the compute dtype.
    """
    import torch

    slices, device, torch_dtype, numpy_dtype = _prepare(slices, device, dtype)
    k, _, i = slices.shape
    result = np.empty((k, i, i), dtype=numpy_dtype)
    for start, stop, covariance, constant in _covariance_chunks(slices, device, torch_dtype):
        std = torch.diagonal(covariance, dim1=1, dim2=2).clamp_min(0).sqrt()
        std = torch.where(constant, torch.zeros_like(std), std)
        denominator = std[:, :, None] * std[:, None, :]
        safe = torch.where(denominator > 0, denominator, torch.ones_like(denominator))
        correlation = torch.where(denominator > 0, covariance / safe,
                                  torch.zeros_like(covariance)).clamp_(-1.0, 1.0)
        result[start:stop] = correlation.cpu().numpy()
    return result


def benchmark_column_covariance(k=256, j=256, i=256, repeats=3, device="cpu") -> float:
    """Seconds for one :func:`column_covariance` of random float32 slices (K, J, I).

    One untimed warm-up call, then the best (minimum) wall time of ``repeats`` calls, which is
    the least disturbed by other work on the machine. Not a unit test: the benchmark calls it.
    """
    import torch

    data = np.random.default_rng(0).normal(1000.0, 50.0, size=(k, j, i)).astype(np.float32)
    column_covariance(data[: min(k, 4)], device=device)
    best = float("inf")
    for _ in range(max(1, repeats)):
        if str(device) != "cpu" and torch.cuda.is_available():
            torch.cuda.synchronize()
        begin = time.perf_counter()
        column_covariance(data, device=device)
        best = min(best, time.perf_counter() - begin)
    return best
