"""The ``medrestore`` argument parser: every command, its options and their defaults (the
defaults come from the engine's options dataclasses and enums, so the CLI cannot drift)."""
from __future__ import annotations

import argparse

from ..errors import InputError
from ..options import DetectOptions, DetectorMethod, Device, FillMethod, FillOptions
from .progress_bar import PROGRESS_STYLES

# `medrestore train TARGET ...` runs MedRestoreLib/training/<module>.py's main(argv).
TRAINERS = {"detector": "train_detector", "inpainting": "train_inpainter",
            "slice-imputer": "train_slice_imputer", "sequence-imputer": "train_sequence_imputer"}


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message):
        raise InputError(f"{self.prog}: {message}")


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", choices=[d.value for d in Device],
                        help="where torch work runs (default: auto = CUDA if available)")
    parser.add_argument("--progress", default="auto", choices=PROGRESS_STYLES,
                        help="auto: a text bar when stderr is a terminal; json: one JSON line per "
                             "step on stderr (MedRestoreLib/progress_protocol.py); none")
    parser.add_argument("--quiet", action="store_true", help="no progress output (--progress none)")


def _add_detector_options(parser: argparse.ArgumentParser) -> None:
    defaults = DetectOptions()
    parser.add_argument("--prob-out", help="write the defect probability map (float32, 0–1)")
    parser.add_argument("--detector", default=defaults.method.value,
                        choices=[m.value for m in DetectorMethod])
    parser.add_argument("--threshold", type=float, default=defaults.threshold,
                        help=f"detector threshold (default {defaults.threshold})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="medrestore", description="Find and repair damaged medical images.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    restore = commands.add_parser("restore", help="detect defects (or take --mask) and fill them")
    restore.add_argument("input", help="damaged image (NRRD, NIfTI, MHA, DICOM folder; 4-D = series)")
    restore.add_argument("output", help="repaired image to write")
    restore.add_argument("--mask", help="known defect mask (non-zero = defect); skips detection")
    restore.add_argument("--mask-out", help="write the defect mask (uint8 0/1)")
    restore.add_argument("--method", default=FillOptions().method.value,
                         choices=[m.value for m in FillMethod], help="fill method")
    restore.add_argument("--adapt-seconds", type=float, default=0.0, metavar="S",
                         help="--method gan: fine-tune on this volume's intact voxels for S s first (off: 0)")
    _add_detector_options(restore)
    restore.add_argument("--seed", type=int, default=0)
    restore.add_argument("--report", help="write the report as JSON")
    restore.add_argument("--preview", help="write a PNG: input, restored and mask in three planes")
    add_common(restore)

    detect = commands.add_parser("detect", help="defect mask and probability map")
    detect.add_argument("input")
    detect.add_argument("mask_out", help="defect mask to write (uint8 0/1)")
    _add_detector_options(detect)
    add_common(detect)

    from ..defects import DefectKind

    corrupt = commands.add_parser("corrupt", help="add synthetic defects, with their ground truth")
    corrupt.add_argument("input")
    corrupt.add_argument("output", help="damaged image to write")
    corrupt.add_argument("mask_out", help="ground-truth defect mask to write")
    corrupt.add_argument("--kind", required=True, choices=[k.value for k in DefectKind])
    corrupt.add_argument("--seed", type=int, default=0)
    corrupt.add_argument("--count", type=int, help="number of defects (default depends on kind)")
    corrupt.add_argument("--specs-out", help="write the sampled defect specs as JSON")
    add_common(corrupt)

    evaluate = commands.add_parser("evaluate", help="PSNR/SSIM inside a mask; F1/Dice for masks")
    evaluate.add_argument("reference")
    evaluate.add_argument("test", help="restored image, or a predicted mask")
    evaluate.add_argument("mask", help="defect mask (ground truth)")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    add_common(evaluate)

    benchmark = commands.add_parser("benchmark", help="measured tables and figures (from a seed)")
    benchmark.add_argument("--out", required=True, help="output folder (created)")
    benchmark.add_argument("--quick", action="store_true",
                           help="bundled sample only, one seed, no 256³ timing (about a minute)")
    benchmark.add_argument("--seed", type=int, default=0)
    add_common(benchmark)

    train = commands.add_parser("train", help="train a model from its config (seed, data, steps)")
    train.add_argument("target", choices=sorted(TRAINERS),
                       help="which model; `medrestore train TARGET --help` lists its options")
    train.add_argument("train_args", nargs=argparse.REMAINDER)

    demo = commands.add_parser("demo", help="the whole pipeline on the bundled sample, with a PNG")
    demo.add_argument("--out", default="out/demo", help="output folder (created)")
    demo.add_argument("--input", help="use this clean volume instead of the bundled sample")
    demo.add_argument("--seed", type=int, default=0)
    add_common(demo)

    from .imputation_commands import add_parsers as add_imputation_parsers

    add_imputation_parsers(commands, add_common)

    from .batch_command import add_parser as add_batch_parser

    add_batch_parser(commands, add_common)
    return parser
