"""The ``batch`` command: argument setup and handler (registered in :mod:`MedRestoreLib.cli.commands`).

Exit status: 0 every input done; 3 some inputs failed (the others were written; reasons in
``OUT_DIR/summary.csv``); 2 a bad command line or no input found; 130 stopped (finished outputs
are kept, no partial file is left; ``--resume`` continues).
"""
from __future__ import annotations

from ..errors import ExitStatus, InputError

# Task options and the tasks they apply to (dest → tasks); the rest of the command applies to all.
TASK_OPTIONS = {"method": ("restore",), "adapt_seconds": ("restore",), "seed": ("restore",),
                "detector": ("restore", "detect"), "threshold": ("restore", "detect"),
                "factor": ("impute-slices",), "missing": ("impute-slices",), "model": ("impute-slices",),
                "acquisition": ("impute-slices",)}


def add_parser(commands, add_common) -> None:
    """Add ``batch`` to ``commands`` (argparse sub-parsers); ``add_common`` adds --device,
    --progress and --quiet. Task options default to None so that one given to the wrong task
    is refused; the engine's dataclasses supply the real defaults."""
    from ..imputation.layout import Acquisition
    from ..imputation.slices import SliceModel
    from ..options import DetectorMethod, FillMethod

    batch = commands.add_parser(
        "batch", help="one task over a folder, glob or CSV manifest of inputs, on Dask (embedded or a cluster)",
        description="Run restore, detect or impute-slices over many inputs on Dask; outputs mirror the "
                    "inputs under OUT_DIR, with results.jsonl and summary.csv. Exit status: 0 all done, "
                    "3 some inputs failed, 2 bad command line, 130 stopped.")
    batch.add_argument("inputs", help="a folder (searched recursively; DICOM grouped by series), a quoted glob "
                                      "such as 'scans/**/*.nii.gz', or a CSV manifest (input[,mask][,output])")
    batch.add_argument("out_dir", help="output folder (created); outputs mirror the inputs' tree")
    batch.add_argument("--task", default="restore", choices=["restore", "detect", "impute-slices"])
    task = batch.add_argument_group("task options (as the command of the same name; defaults are its own)")
    task.add_argument("--method", choices=[m.value for m in FillMethod], help="restore: fill method")
    task.add_argument("--adapt-seconds", type=float, metavar="S", help="restore --method gan: test-time adaptation")
    task.add_argument("--seed", type=int, help="restore: seed")
    task.add_argument("--detector", choices=[m.value for m in DetectorMethod], help="restore, detect: detector")
    task.add_argument("--threshold", type=float, help="restore, detect: detector threshold")
    task.add_argument("--factor", type=int, help="impute-slices: slices are FACTOR thin slices apart")
    task.add_argument("--missing", help="impute-slices: 'auto' or 0-based indices like 3,7,10-12")
    task.add_argument("--model", choices=[m.value for m in SliceModel], help="impute-slices: imputation model")
    task.add_argument("--acquisition", choices=[a.value for a in Acquisition], help="impute-slices with --factor")
    cluster = batch.add_argument_group("where it runs")
    cluster.add_argument("--workers", type=int, help="worker processes of the embedded cluster (default: CPU count)")
    cluster.add_argument("--memory-limit", help="per embedded worker, e.g. 4GB (default auto: memory shared out)")
    cluster.add_argument("--scheduler", metavar="ADDRESS",
                         help="run on an existing Dask cluster, e.g. tcp://host:8786, instead of an embedded one")
    cluster.add_argument("--resources", metavar="NAME=N", action="append", default=[],
                         help="worker resources each task needs, e.g. GPU=1 (workers started with --resources GPU=1)")
    cluster.add_argument("--retries", type=int, default=2,
                         help="runs of an input after its worker died, before it is reported and skipped (default 2)")
    cluster.add_argument("--resume", action="store_true",
                         help="keep outputs that exist and read back; compute only the others")
    add_common(batch)


def _task_options(args) -> dict:
    """The task's options as its dataclass's dict, from the options given (refusing the others)."""
    for dest, tasks in TASK_OPTIONS.items():
        if getattr(args, dest) is not None and args.task not in tasks:
            flag = "--" + dest.replace("_", "-")
            raise InputError(f"{flag} applies to --task {' or '.join(tasks)}, not {args.task}")
    detect = {key: value for key, value in (("method", args.detector), ("threshold", args.threshold))
              if value is not None}
    if args.task == "detect":
        return detect
    if args.task == "restore":
        fill = {key: value for key, value in (("method", args.method), ("adapt_seconds", args.adapt_seconds))
                if value is not None}
        return {"detect": detect, "fill": fill, **({"seed": args.seed} if args.seed is not None else {})}
    from ..imputation.slices import parse_missing

    if (args.factor is None) == (args.missing is None):
        raise InputError("--task impute-slices needs exactly one of --factor and --missing")
    given = {"factor": args.factor, "model": args.model, "acquisition": args.acquisition,
             "missing": None if args.missing is None else parse_missing(args.missing)}
    return {key: value for key, value in given.items() if value is not None}


def _resources(pairs) -> dict:
    resources = {}
    for pair in pairs:
        name, _, amount = pair.partition("=")
        try:
            resources[name.strip()] = float(amount)
        except ValueError:
            raise InputError(f"--resources {pair}: give NAME=AMOUNT, e.g. GPU=1") from None
        if not name.strip():
            raise InputError(f"--resources {pair}: the resource has no name")
    return resources


def batch_command(args, progress):
    """Run the batch; returns (exit status, message) when it is not a plain success."""
    from ..batch import BatchInterrupted, BatchSettings, run_batch

    if args.scheduler and (args.workers is not None or args.memory_limit is not None):
        raise InputError("--workers and --memory-limit set up the embedded cluster; "
                         "the cluster at --scheduler has its own workers")
    settings = BatchSettings(workers=args.workers, memory_limit=args.memory_limit or "auto",
                             scheduler=args.scheduler, retries=args.retries, resume=args.resume,
                             resources=_resources(args.resources))
    try:
        result = run_batch(args.inputs, args.out_dir, args.task, _task_options(args), args.device, settings, progress)
    except BatchInterrupted as stop:
        done = stop.result
        return ExitStatus.INTERRUPTED, (f"medrestore batch: interrupted after {done.done + done.failed} of "
                                        f"{done.total} inputs; finished outputs are kept, no partial file is left "
                                        "(--resume continues)")
    progress.close()
    kept = f" ({result.skipped} kept from an earlier run)" if result.skipped else ""
    print(f"{result.done} of {result.total} inputs done{kept}, {result.failed} failed; see {args.out_dir}/summary.csv")
    if result.failed:
        return ExitStatus.SOME_FAILED, (f"medrestore batch: {result.failed} of {result.total} inputs failed; "
                                        f"the reasons are in {args.out_dir}/summary.csv")
    return None
