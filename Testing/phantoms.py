"""Seeded synthetic volumes shared by the tests (real arrays, no mocks)."""
import numpy as np

from MedRestoreLib.volume import Volume


def head_phantom(shape=(16, 40, 40), dtype=np.int16, seed=0, noise=4.0):
    """A smooth ellipsoidal 'head' with a brighter core, mild texture and noise, oblique geometry."""
    rng = np.random.default_rng(seed)
    k, j, i = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    radius = np.sqrt((k / 0.9) ** 2 + (j / 0.8) ** 2 + (i / 0.7) ** 2)
    values = np.where(radius < 1, 600 + 300 * np.cos(3 * j) * np.sin(2 * i) * (radius < 0.6), 0.0)
    values += np.where(radius < 1, rng.normal(0, noise, shape), 0.0)
    angle = np.deg2rad(15)
    direction = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    return Volume.from_geometry(values.astype(dtype), spacing=(1.0, 1.2, 2.5), origin=(5.0, -7.0, 11.0),
                                direction=direction)


def box_mask(shape, start, stop):
    mask = np.zeros(shape, np.uint8)
    mask[tuple(slice(a, b) for a, b in zip(start, stop))] = 1
    return mask
