"""The ``impute-slices`` and ``impute-sequence`` commands: argument setup and handlers
(registered in :mod:`MedRestoreLib.cli.commands`)."""
from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .output_checks import check_outputs


def add_parsers(commands, add_common) -> None:
    """Add both sub-commands to ``commands`` (argparse sub-parsers); ``add_common`` adds the
    options every command shares (device, progress, quiet)."""
    from ..imputation.layout import Acquisition
    from ..imputation.slices import DEFAULT_SLICE_MODEL, SliceModel
    from ..imputation.time_series import DEFAULT_SEQUENCE_MODEL, SequenceModel

    slices = commands.add_parser("impute-slices", help="thick or gapped volume → thin-slice volume")
    slices.add_argument("input", help="volume whose slice axis is k (NRRD, NIfTI, MHA, DICOM folder)")
    slices.add_argument("output", help="thin-slice volume to write")
    which = slices.add_mutually_exclusive_group(required=True)
    which.add_argument("--factor", type=int, help="slices are FACTOR thin slices apart; output has "
                       "FACTOR times as many slices (spacing along k divided by FACTOR)")
    which.add_argument("--missing", help="'auto' (blank or corrupted slices) or 0-based indices "
                       "like 3,7,10-12; the output keeps the input's grid")
    slices.add_argument("--model", default=DEFAULT_SLICE_MODEL.value, choices=[m.value for m in SliceModel],
                        help=f"imputation model (default {DEFAULT_SLICE_MODEL.value}: every model is measured on "
                             "held-out acquired slices of this scan and the best one or blend is used; the "
                             "choice is printed and written into the output's header)")
    slices.add_argument("--adapt-seconds", type=float, default=None, metavar="S",
                        help="with --factor: the recurrent network is tuned on this scan's own in-plane data "
                             "(self-supervised) for a fixed number of steps, at most S seconds (0 = off; "
                             "default 20)")
    slices.add_argument("--acquisition", default=Acquisition.THICK.value, choices=[a.value for a in Acquisition],
                        help="with --factor: thick = each slice averages its slab (centre mid-slab; the "
                             "thin grid starts half a slab minus half a thin slice earlier), sampled = "
                             "each slice is one thin slice (same origin)")
    slices.add_argument("--filled-out", help="write a label volume marking the computed slices (1)")
    add_common(slices)

    sequence = commands.add_parser("impute-sequence",
                                   help="missing frames of a 4-D series, or blank cells of a CSV table")
    sequence.add_argument("input", help="4-D series (NRRD/NIfTI; .seq.nrrd) or a .csv table")
    sequence.add_argument("output", help="series or .csv to write (same kind as the input)")
    sequence.add_argument("--missing", default="auto",
                          help="'auto' (blank frames / blank cells) or 0-based frame (table: row) indices")
    sequence.add_argument("--model", default=DEFAULT_SEQUENCE_MODEL.value, choices=[m.value for m in SequenceModel],
                          help=f"default {DEFAULT_SEQUENCE_MODEL.value}: observed cells (frames) are held out, "
                               "imputed by each model, and each column takes the best (printed; tables also get "
                               "OUTPUT.json with the choice and the errors)")
    sequence.add_argument("--forecast", type=int, default=0, help="frames (table: rows per subject) to predict")
    sequence.add_argument("--times", help="image series: the time of each frame, comma-separated "
                          "(e.g. --times=0,1,3,7.5; default 0,1,2,...); irregular visits change the "
                          "imputed and forecast frames. Write --times=... when the first is negative")
    add_common(sequence)


def _missing_list(text: str):
    from ..imputation.slices import parse_missing

    return parse_missing(text)


def impute_slices_command(args, progress) -> None:
    from ..imputation.slices import SliceImputeOptions, impute_slices
    from ..volume import VolumeKind, read_volume, write_volume

    check_outputs([args.input], [args.output, args.filled_out], images=[args.output, args.filled_out])
    options = SliceImputeOptions(model=args.model, factor=args.factor,
                                 missing=None if args.missing is None else _missing_list(args.missing),
                                 acquisition=args.acquisition, device=args.device,
                                 **({} if args.adapt_seconds is None else {"adapt_seconds": args.adapt_seconds}))
    result = impute_slices(read_volume(args.input), options, progress)
    write_volume(result.volume, args.output, result.metadata())
    if result.summary():
        print(result.summary())
    if args.filled_out:
        import numpy as np

        marks = np.broadcast_to(result.filled[:, None, None], result.volume.shape).astype(np.uint8)
        write_volume(result.volume.with_array(marks, kind=VolumeKind.LABEL), args.filled_out)


def _times(text):
    """Numbers of ``--times`` (None when not given)."""
    if text is None:
        return None
    try:
        return [float(item) for item in text.split(",")]
    except ValueError:
        raise InputError(f"--times takes numbers separated by commas, got '{text}'") from None


def impute_sequence_command(args, progress) -> None:
    from ..progress import Steps

    if args.forecast < 0:
        raise InputError(f"--forecast must be ≥ 0, got {args.forecast}")
    is_table = Path(args.input).suffix.lower() == ".csv"
    if is_table != (Path(args.output).suffix.lower() == ".csv"):
        raise InputError("input and output must both be .csv tables, or both image series")
    check_outputs([args.input], [args.output], images=[] if is_table else [args.output])
    missing = "auto" if args.missing == "auto" else _missing_list(args.missing)
    times = _times(args.times)
    if is_table and times is not None:
        raise InputError("--times is for image series; a table's times are its TIME column")
    steps = Steps(progress)
    if is_table:
        from ..imputation.table_files import read_table, write_table
        from ..imputation.tables import impute_table

        columns, rows, style = read_table(args.input)
        steps.report(0.1, "imputing table")
        report: dict = {}
        columns, rows = impute_table(columns, rows, args.model, args.forecast,
                                     [] if missing == "auto" else missing, decimal=style.decimal, report=report)
        write_table(columns, rows, args.output, style)
        if "summary" in report:
            from ..json_output import write_json

            write_json(report, Path(str(args.output) + ".json"))
            print(report["summary"])
    else:
        from ..imputation.frames import impute_frames
        from ..volume import read_series, write_series

        frames = read_series(args.input)
        write_series(impute_frames(frames, args.model, missing, args.forecast, times, steps=steps), args.output)
    steps.report(1.0, "done")
