"""The ``medrestore`` command line (also ``python -m MedRestoreLib``).

Exit status: 0 done; 2 bad input or usage, with one line on stderr and nothing written; 1 a bug
(with its traceback, so it can be reported).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional

from .errors import Cancelled, InputError
from .json_output import to_json, write_json
from .options import DetectOptions, Device, DetectorMethod, FillMethod, FillOptions

EXIT_OK, EXIT_BUG, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

# `medrestore train TARGET ...` runs MedRestoreLib/training/<module>.py's main(argv).
TRAINERS = {"detector": "train_detector", "inpainting": "train_inpainter",
            "slice-imputer": "train_slice_imputer", "sequence-imputer": "train_sequence_imputer"}


class ProgressBar:
    """A one-line text progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, stream=None, enabled: Optional[bool] = None, width: int = 30):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.width = width
        self._last = ""

    def __call__(self, fraction: float, message: str) -> None:
        if not self.enabled:
            return
        filled = int(round(self.width * fraction))
        line = f"\r[{'#' * filled}{' ' * (self.width - filled)}] {100 * fraction:5.1f}% {message[:40]:<40}"
        if line != self._last:
            self.stream.write(line)
            self.stream.flush()
            self._last = line

    def close(self) -> None:
        if self.enabled and self._last:
            self.stream.write("\n")
            self.stream.flush()


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message):
        raise InputError(f"{self.prog}: {message}")


def _check_outputs(inputs: List[Optional[str]], outputs: List[Optional[str]]) -> None:
    """Fail before any work if an output cannot be written or would overwrite an input."""
    given_inputs = {os.path.realpath(p) for p in inputs if p}
    seen = set()
    for output in filter(None, outputs):
        path = Path(output)
        if not path.parent.is_dir():
            raise InputError(f"{output}: the folder {path.parent} does not exist")
        real = os.path.realpath(output)
        if real in given_inputs:
            raise InputError(f"{output}: refusing to overwrite an input file")
        if real in seen:
            raise InputError(f"{output}: given as two different outputs")
        seen.add(real)


PROGRESS_STYLES = ("auto", "bar", "json", "none")
# Arguments naming files a command writes: an interrupted run removes those it wrote.
OUTPUT_ARGUMENTS = ("output", "mask_out", "prob_out", "report", "preview", "specs_out", "filled_out")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", choices=[d.value for d in Device],
                        help="where torch work runs (default: auto = CUDA if available)")
    parser.add_argument("--progress", default="auto", choices=PROGRESS_STYLES,
                        help="auto: a text bar when stderr is a terminal; json: one JSON line per "
                             "step on stderr (MedRestoreLib/progress_protocol.py); none")
    parser.add_argument("--quiet", action="store_true", help="no progress output (--progress none)")


def _progress_reporter(args):
    """The progress callback the command line asks for (a text bar, JSON lines, or nothing)."""
    style = "none" if getattr(args, "quiet", False) else getattr(args, "progress", "auto")
    if style == "json":
        from .progress_protocol import JsonProgress

        return JsonProgress(args.command)
    return ProgressBar(enabled={"auto": None, "bar": True, "none": False}[style])


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
    _add_common(restore)

    detect = commands.add_parser("detect", help="defect mask and probability map")
    detect.add_argument("input")
    detect.add_argument("mask_out", help="defect mask to write (uint8 0/1)")
    _add_detector_options(detect)
    _add_common(detect)

    from .defects import DefectKind

    corrupt = commands.add_parser("corrupt", help="add synthetic defects, with their ground truth")
    corrupt.add_argument("input")
    corrupt.add_argument("output", help="damaged image to write")
    corrupt.add_argument("mask_out", help="ground-truth defect mask to write")
    corrupt.add_argument("--kind", required=True, choices=[k.value for k in DefectKind])
    corrupt.add_argument("--seed", type=int, default=0)
    corrupt.add_argument("--count", type=int, help="number of defects (default depends on kind)")
    corrupt.add_argument("--specs-out", help="write the sampled defect specs as JSON")
    _add_common(corrupt)

    evaluate = commands.add_parser("evaluate", help="PSNR/SSIM inside a mask; F1/Dice for masks")
    evaluate.add_argument("reference")
    evaluate.add_argument("test", help="restored image, or a predicted mask")
    evaluate.add_argument("mask", help="defect mask (ground truth)")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    _add_common(evaluate)

    benchmark = commands.add_parser("benchmark", help="measured tables and figures (from a seed)")
    benchmark.add_argument("--out", required=True, help="output folder (created)")
    benchmark.add_argument("--quick", action="store_true",
                           help="bundled sample only, one seed, no 256³ timing (about a minute)")
    benchmark.add_argument("--seed", type=int, default=0)
    _add_common(benchmark)

    train = commands.add_parser("train", help="train a model from its config (seed, data, steps)")
    train.add_argument("target", choices=sorted(TRAINERS),
                       help="which model; `medrestore train TARGET --help` lists its options")
    train.add_argument("train_args", nargs=argparse.REMAINDER)

    demo = commands.add_parser("demo", help="the whole pipeline on the bundled sample, with a PNG")
    demo.add_argument("--out", default="out/demo", help="output folder (created)")
    demo.add_argument("--input", help="use this clean volume instead of the bundled sample")
    demo.add_argument("--seed", type=int, default=0)
    _add_common(demo)

    from .imputation.commands import add_parsers as add_imputation_parsers

    add_imputation_parsers(commands, _add_common)
    return parser


def _restore_command(args, progress) -> None:
    from .options import RestoreOptions
    from .pipeline import restore
    from .volume import VolumeKind, read_series, read_volume, write_series, write_volume

    _check_outputs([args.input, args.mask],
                   [args.output, args.mask_out, args.prob_out, args.report, args.preview])
    options = RestoreOptions.from_dict({
        "detect": {"method": args.detector, "threshold": args.threshold},
        "fill": {"method": args.method, "adapt_seconds": args.adapt_seconds},
        "device": args.device, "seed": args.seed})
    frames = read_series(args.input)
    mask = read_volume(args.mask, VolumeKind.LABEL) if args.mask else None
    results = []
    for n, frame in enumerate(frames):
        def frame_progress(fraction, message, n=n):
            progress((n + fraction) / len(frames), message)
        results.append(restore(frame, options, frame_progress, mask=mask))
    write = (lambda items, path: write_volume(items[0], path)) if len(frames) == 1 else write_series
    write([r.volume for r in results], args.output)
    if args.mask_out:
        write([r.mask for r in results], args.mask_out)
    if args.prob_out:
        if results[0].probability is None:
            raise InputError("--prob-out needs detection; it is skipped when --mask is given")
        write([r.probability for r in results], args.prob_out)
    if args.report:
        write_json({"input": args.input, "output": args.output, "options": options.to_dict(),
                     "frames": [r.report.as_dict() for r in results]}, args.report)
    if args.preview:
        from .report_figure import save_preview

        save_preview(frames[0], results[0].volume, results[0].mask, args.preview)


def _detect_command(args, progress) -> None:
    from .options import DetectOptions
    from .pipeline import detect
    from .volume import read_volume, write_volume

    _check_outputs([args.input], [args.mask_out, args.prob_out])
    options = DetectOptions.from_dict({"method": args.detector, "threshold": args.threshold})
    mask, probability = detect(read_volume(args.input), options, progress, device=args.device)
    write_volume(mask, args.mask_out)
    if args.prob_out:
        write_volume(probability, args.prob_out)


def _corrupt_command(args, progress) -> None:
    from dataclasses import asdict

    from .defects import corrupt
    from .volume import read_volume, write_volume

    _check_outputs([args.input], [args.output, args.mask_out, args.specs_out])
    if args.seed < 0:
        raise InputError(f"--seed must be ≥ 0, got {args.seed}")
    damaged, mask, specs = corrupt(read_volume(args.input), args.kind, seed=args.seed,
                                   count=args.count)
    write_volume(damaged, args.output)
    write_volume(mask, args.mask_out)
    if args.specs_out:
        write_json([asdict(spec) for spec in specs], args.specs_out)


def _evaluate_command(args, progress) -> None:
    from .metrics import evaluate_files

    scores = evaluate_files(args.reference, args.test, args.mask)
    if args.json:
        print(to_json(scores))
    else:
        for name, value in scores.items():
            print(f"{name:>16}: {value:.4f}" if isinstance(value, float) else f"{name:>16}: {value}")


def _demo_command(args, progress) -> None:
    from .demo import run_demo

    report = run_demo(Path(args.out), sample=args.input, seed=args.seed, device=args.device,
                      progress=progress)
    print(f"wrote {args.out}/ (report.png, report.json, volumes); "
          f"blind restore PSNR_mask {report['blind']['psnr_mask']:.2f} dB "
          f"vs damaged {report['damaged']['psnr_mask']:.2f} dB")


def _train_command(args, progress) -> None:
    import importlib

    trainer = importlib.import_module(f".training.{TRAINERS[args.target]}", __package__)
    status = trainer.main(args.train_args)
    if status:
        raise SystemExit(status)


def _benchmark_command(args, progress) -> None:
    from .benchmark import run_benchmark
    from .devices import resolve_device

    run_benchmark(Path(args.out), quick=args.quick, seed=args.seed,
                  device=resolve_device(args.device), progress=progress)
    print(f"wrote {args.out}/ (benchmark.md, benchmark.json, detection.png)")


COMMANDS = {"benchmark": _benchmark_command, "restore": _restore_command, "detect": _detect_command,
            "corrupt": _corrupt_command, "evaluate": _evaluate_command, "demo": _demo_command,
            "train": _train_command}
# impute-slices and impute-sequence: handlers in MedRestoreLib/imputation/commands.py.
COMMANDS.update({"impute-slices": lambda args, progress: _imputation("impute_slices_command", args, progress),
                 "impute-sequence": lambda args, progress: _imputation("impute_sequence_command", args, progress)})


def _imputation(name, args, progress) -> None:
    from .imputation import commands

    getattr(commands, name)(args, progress)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the CLI; returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except InputError as error:
        print(f"medrestore: error: {str(error).replace('medrestore: ', '', 1)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from .termination import OutputGuard, interrupt_on_termination

    progress = _progress_reporter(args)
    outputs = OutputGuard(getattr(args, name, None) for name in OUTPUT_ARGUMENTS)
    status, message = EXIT_OK, ""
    try:
        with interrupt_on_termination():  # SIGTERM (the panel's Cancel) stops like Ctrl+C
            COMMANDS[args.command](args, progress)
    except InputError as error:
        status, message = EXIT_BAD_INPUT, f"medrestore {args.command}: error: {error}"
    except (Cancelled, KeyboardInterrupt):
        outputs.remove_written()
        status, message = EXIT_INTERRUPTED, f"medrestore {args.command}: interrupted; nothing was written"
    except Exception as error:
        # A bug: the traceback goes to stderr as usual; the JSON reader still gets its last line.
        if hasattr(progress, "finish"):
            progress.finish(EXIT_BUG, f"medrestore {args.command}: {type(error).__name__}: {error}")
        raise
    progress.close()
    if message:
        print(message, file=sys.stderr)
    if hasattr(progress, "finish"):
        progress.finish(status, message)
    return status
