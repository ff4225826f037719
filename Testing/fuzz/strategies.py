"""Hypothesis strategies for the fuzz suite: valid volumes of every voxel type, shape, spacing,
orientation and value range the readers meet."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from MedRestoreLib.volume import Volume

DTYPES = (np.uint8, np.int8, np.uint16, np.int16, np.int32, np.uint32, np.float32, np.float64)
FORMATS = (".nrrd", ".nii.gz", ".nii", ".mha")


def rotation(quaternion) -> np.ndarray:
    w, x, y, z = np.asarray(quaternion, float) / (np.linalg.norm(quaternion) or 1.0)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


@st.composite
def directions(draw) -> np.ndarray:
    """Rotations (oblique), with or without a flip of one axis (a left-handed frame), now and
    then sheared (axes not perpendicular: NRRD and MetaImage store it, NIfTI cannot)."""
    quaternion = draw(st.tuples(*[st.floats(-1, 1)] * 4).filter(lambda q: np.linalg.norm(q) > 0.1))
    flip = draw(st.sampled_from([1.0, -1.0]))
    shear = np.eye(3)
    if draw(st.integers(0, 3)) == 0:
        shear[0, 1], shear[1, 2] = draw(st.floats(-0.5, 0.5)), draw(st.floats(-0.5, 0.5))
    return rotation(quaternion) @ np.diag([1.0, 1.0, flip]) @ shear


def is_sheared(volume: Volume) -> bool:
    direction = volume.direction
    return not np.allclose(direction.T @ direction, np.eye(3), atol=1e-4)


@st.composite
def voxel_values(draw, shape, dtype) -> np.ndarray:
    """Values spanning the type's range, or a narrow band of it; floats from 1e-30 to 1e300
    (float32: 1e37), with exact zeros and negative zeros sprinkled in."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        low = draw(st.integers(int(info.min), int(info.max)))
        high = draw(st.integers(low, int(info.max)))
        return rng.integers(low, high, size=shape, endpoint=True, dtype=np.int64).astype(dtype)
    top = 37 if dtype == np.float32 else 300
    scale = 10.0 ** draw(st.integers(-30, top))
    values = (rng.uniform(-1, 1, shape) * scale).astype(dtype)
    values.reshape(-1)[rng.random(values.size) < 0.05] = 0.0
    values.reshape(-1)[rng.random(values.size) < 0.05] = -0.0
    return values


@st.composite
def volumes(draw, max_side: int = 10) -> Volume:
    dtype = draw(st.sampled_from(DTYPES))
    shape = draw(st.tuples(*[st.integers(1, max_side)] * 3).filter(lambda s: s[0] * s[1] * s[2] >= 2))
    spacing = draw(st.tuples(*[st.floats(1e-3, 1e3)] * 3))
    origin = draw(st.tuples(*[st.floats(-1e4, 1e4)] * 3))
    array = draw(voxel_values(shape, dtype))
    return Volume.from_geometry(array, spacing, origin, draw(directions()))


@st.composite
def masks(draw, shape) -> np.ndarray:
    """A 0/1 mask: a random box, a few scattered voxels, or both; never empty."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    mask = np.zeros(shape, np.uint8)
    if draw(st.booleans()):
        start = [int(rng.integers(0, n)) for n in shape]
        stop = [int(rng.integers(a + 1, n + 1)) for a, n in zip(start, shape)]
        mask[tuple(slice(a, b) for a, b in zip(start, stop))] = 1
    mask.reshape(-1)[rng.random(mask.size) < 0.05] = 1
    mask.reshape(-1)[int(rng.integers(0, mask.size))] = 1
    return mask
