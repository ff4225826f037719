"""What each ``medrestore`` command does with its parsed arguments (``COMMANDS``).

A handler returns None when it succeeded, or (exit status, message) for an outcome other than
an exception can say (``batch``: some inputs failed, or stopped with its outputs kept)."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..json_output import to_json, write_json
from .batch_command import batch_command
from .imputation_commands import impute_sequence_command, impute_slices_command
from .output_checks import check_outputs
from .parser import TRAINERS


def _restore_command(args, progress) -> None:
    from ..options import RestoreOptions
    from ..pipeline import restore
    from ..volume import VolumeKind, read_series, read_volume, write_series, write_volume

    check_outputs([args.input, args.mask], [args.output, args.mask_out, args.prob_out, args.report, args.preview],
                  images=[args.output, args.mask_out, args.prob_out])
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
        from ..report_figure import save_preview

        save_preview(frames[0], results[0].volume, results[0].mask, args.preview)


def _detect_command(args, progress) -> None:
    from ..options import DetectOptions
    from ..pipeline import detect
    from ..volume import read_volume, write_volume

    check_outputs([args.input], [args.mask_out, args.prob_out], images=[args.mask_out, args.prob_out])
    options = DetectOptions.from_dict({"method": args.detector, "threshold": args.threshold})
    mask, probability = detect(read_volume(args.input), options, progress, device=args.device)
    write_volume(mask, args.mask_out)
    if args.prob_out:
        write_volume(probability, args.prob_out)


def _corrupt_command(args, progress) -> None:
    from dataclasses import asdict

    from ..defects import corrupt
    from ..volume import read_volume, write_volume

    check_outputs([args.input], [args.output, args.mask_out, args.specs_out], images=[args.output, args.mask_out])
    if args.seed < 0:
        raise InputError(f"--seed must be ≥ 0, got {args.seed}")
    damaged, mask, specs = corrupt(read_volume(args.input), args.kind, seed=args.seed,
                                   count=args.count)
    write_volume(damaged, args.output)
    write_volume(mask, args.mask_out)
    if args.specs_out:
        write_json([asdict(spec) for spec in specs], args.specs_out)


def _evaluate_command(args, progress) -> None:
    from ..metrics import evaluate_files

    scores = evaluate_files(args.reference, args.test, args.mask)
    if args.json:
        print(to_json(scores))
    else:
        for name, value in scores.items():
            print(f"{name:>16}: {value:.4f}" if isinstance(value, float) else f"{name:>16}: {value}")


def _demo_command(args, progress) -> None:
    from ..demo import run_demo

    report = run_demo(Path(args.out), sample=args.input, seed=args.seed, device=args.device,
                      progress=progress)
    print(f"wrote {args.out}/ (report.png, report.json, volumes); "
          f"blind restore PSNR_mask {report['blind']['psnr_mask']:.2f} dB "
          f"vs damaged {report['damaged']['psnr_mask']:.2f} dB")


def _train_command(args, progress) -> None:
    import importlib

    trainer = importlib.import_module(f"MedRestoreLib.training.{TRAINERS[args.target]}")
    status = trainer.main(args.train_args)
    if status:
        raise SystemExit(status)


def _benchmark_command(args, progress) -> None:
    from ..benchmark import run_benchmark
    from ..devices import resolve_device

    run_benchmark(Path(args.out), quick=args.quick, seed=args.seed,
                  device=resolve_device(args.device), progress=progress)
    print(f"wrote {args.out}/ (benchmark.md, benchmark.json, detection.png)")


COMMANDS = {"benchmark": _benchmark_command, "restore": _restore_command, "detect": _detect_command,
            "corrupt": _corrupt_command, "evaluate": _evaluate_command, "demo": _demo_command,
            "train": _train_command}
COMMANDS.update({"impute-slices": impute_slices_command, "impute-sequence": impute_sequence_command,
                 "batch": batch_command})
