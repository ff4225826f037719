"""Strict JSON for reports: numpy scalars become numbers, inf/nan become strings."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np


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
    """Write through a temporary file so a failure leaves no half-written report."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(to_json(data))
    os.replace(temporary, path)
