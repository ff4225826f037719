"""Defect detectors: each maps an intensity array to a defect probability per voxel."""
from .baselines import median_mad_probability

__all__ = ["median_mad_probability"]
