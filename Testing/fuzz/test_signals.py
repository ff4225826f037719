"""Signals at random moments of a real run (a child process, as the panel and scripts start it).

SIGTERM or SIGINT: status 130 and one line, and every file as it was (no output, earlier versions
of the outputs untouched, no temporary folder) — or, when the run had already finished, status 0
and whole outputs. SIGKILL (what the system's out-of-memory killer sends): no cleanup is possible,
but every output path holds either its earlier version or a whole new file, never a cut one.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from MedRestoreLib.file_integrity import check_image_file
from MedRestoreLib.volume import VolumeKind, read_volume, write_volume
from Testing.fuzz.harness import CASES, LONG_RUN, folder_state
from Testing.phantoms import box_mask, head_phantom

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

OUTPUTS = ("restored.nii.gz", "defects.nrrd", "report.json", "preview.png")
# (signal, seconds after the start): start-up, reading, filling, writing — about 5 s in all here.
QUICK_POINTS = [(signal.SIGTERM, 2.5), (signal.SIGINT, 0.4), (signal.SIGKILL, 3.0)]


def random_points(seed: int, count: int):
    rng = random.Random(seed)
    kinds = [signal.SIGTERM] * 5 + [signal.SIGINT] * 2 + [signal.SIGKILL] * 3
    return [(rng.choice(kinds), rng.uniform(0.0, 6.0)) for _ in range(count)]


POINTS = random_points(int(os.environ.get("MEDRESTORE_FUZZ_SEED", "0")),
                       int(os.environ.get("MEDRESTORE_FUZZ_SIGNALS", "40"))) if LONG_RUN else QUICK_POINTS


def whole(path: Path) -> bool:
    """A finished output: an image that passes the byte check and reads, JSON that parses, a PNG."""
    if path.suffix == ".json":
        json.loads(path.read_text())
    elif path.suffix == ".png":
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.read_bytes()[-8:-4] == b"IEND"
    else:
        check_image_file(path)
        read_volume(path)
    return True


@pytest.mark.parametrize("number", range(len(POINTS)))
def test_a_signal_at_a_random_moment_leaves_no_cut_file(number, tmp_path):
    kind, delay = POINTS[number]
    volume = head_phantom(shape=(24, 64, 64))
    write_volume(volume, tmp_path / "in.nrrd")
    write_volume(volume.with_array(box_mask(volume.shape, (8, 20, 20), (14, 40, 40)), VolumeKind.LABEL),
                 tmp_path / "mask.nrrd")
    earlier = number % 2 == 0  # every other run finds earlier versions of its outputs
    if earlier:
        for name in OUTPUTS:
            (tmp_path / name).write_bytes(b"an earlier version, to keep")
    before = folder_state(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "MedRestoreLib", "restore", str(tmp_path / "in.nrrd"), str(tmp_path / OUTPUTS[0]),
         "--mask", str(tmp_path / "mask.nrrd"), "--method", "biharmonic3d", "--mask-out", str(tmp_path / OUTPUTS[1]),
         "--report", str(tmp_path / OUTPUTS[2]), "--preview", str(tmp_path / OUTPUTS[3]), "--quiet"],
        stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    process.send_signal(kind)
    stderr = process.communicate(timeout=120)[1]
    status = process.returncode
    CASES[f"signal {signal.Signals(kind).name}: status {status}"] += 1
    after = folder_state(tmp_path)
    assert "Traceback" not in stderr, stderr
    if status == 0:  # finished before the signal came: whole outputs, nothing else
        assert stderr == "" and all(whole(tmp_path / name) for name in OUTPUTS)
        assert set(after) == set(before) | set(OUTPUTS)
    elif kind == signal.SIGKILL:
        assert status == -signal.SIGKILL
        for name in OUTPUTS:
            path = tmp_path / name
            assert after.get(name) == before.get(name) or whole(path), f"{name} is cut"
    elif status == 130:
        assert stderr.strip().endswith("interrupted; nothing was written") and stderr.count("\n") == 1, stderr
        assert after == before, "an interrupted run must leave every file as it was"
    else:  # the signal came before Python ran any of MedRestore (interpreter start-up): nothing written
        assert status == -kind, (status, stderr)
        assert after == before
