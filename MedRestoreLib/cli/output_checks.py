"""Checks of a command's output paths, made before any work starts."""
from __future__ import annotations

import os
from typing import List, Optional, Sequence

from ..errors import InputError
from ..image_files import check_writable_image
from ..output_files import check_output_path

# Arguments naming files a command writes: an interrupted run removes those it wrote.
OUTPUT_ARGUMENTS = ("output", "mask_out", "prob_out", "report", "preview", "specs_out", "filled_out")


def check_outputs(inputs: List[Optional[str]], outputs: List[Optional[str]],
                  images: Sequence[Optional[str]] = ()) -> None:
    """Fail before any work if an output cannot be written or would overwrite an input.

    Args:
        images: those of ``outputs`` that are images (their format must be one written whole).
    """
    given_inputs = {os.path.realpath(p) for p in inputs if p}
    seen = set()
    for output in filter(None, outputs):
        check_output_path(output)  # missing or read-only folder, no permission, a folder given
        real = os.path.realpath(output)
        if real in given_inputs:
            raise InputError(f"{output}: refusing to overwrite an input file")
        if real in seen:
            raise InputError(f"{output}: given as two different outputs")
        seen.add(real)
    for image in filter(None, images):
        check_writable_image(image)
