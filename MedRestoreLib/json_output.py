"""Strict JSON for reports: numpy scalars become numbers, inf/nan become strings."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .output_files import write_atomically


def json_ready(data):
    """A copy of ``data`` that ``json.dumps(..., allow_nan=False)`` accepts.

    JSON has no inf/nan (PSNR of identical images is inf; scores over an empty mask are nan):
    they are written as the strings "inf", "-inf" and "nan".
    """
    if isinstance(data, dict):
        return {str(key): json_ready(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [json_ready(value) for value in data]
    if isinstance(data, np.generic):
        data = data.item()
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if hasattr(data, "value") and hasattr(data, "name"):  # Enum members
        return data.value
    return data


def to_json(data) -> str:
    return json.dumps(json_ready(data), indent=2, allow_nan=False)


def write_json(data, path) -> None:
    """Write atomically (``output_files.write_atomically``): no half-written report on failure."""
    text = to_json(data)
    write_atomically(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"))
