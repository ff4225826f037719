"""``medrestore batch`` end to end on real Dask clusters: an embedded LocalCluster, a real
``dask scheduler`` and ``dask worker`` started as child processes, a worker killed with SIGKILL,
a batch stopped with SIGTERM and resumed. Real volumes, real weights, outputs read back."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from MedRestoreLib.cli import main
from MedRestoreLib.defects import corrupt
from MedRestoreLib.volume import read_volume, write_volume
from Testing.phantoms import head_phantom

pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")  # a Dask dependency: finds the worker processes to kill

ROOT = Path(__file__).resolve().parents[2]
CLASSICAL = ["--detector", "median-mad", "--method", "biharmonic3d"]


def make_inputs(folder: Path, count: int, shape=(16, 40, 40), corrupt_one: bool = False):
    """``count`` damaged phantoms, the last in a nested folder; with ``corrupt_one`` the first is
    a truncated file. Returns their paths."""
    paths = []
    for n in range(count):
        path = folder / ("nested/deeper" if n == count - 1 else "") / f"scan{n:02d}.nrrd"
        path.parent.mkdir(parents=True, exist_ok=True)
        volume, _, _ = corrupt(head_phantom(shape, seed=n), "mixed", seed=n)
        write_volume(volume, path)
        paths.append(path)
    if corrupt_one:
        data = paths[0].read_bytes()
        paths[0].write_bytes(data[: len(data) // 3])
    return paths


def summary(out_dir: Path):
    with open(out_dir / "summary.csv", newline="") as handle:
        return {row["output"]: row for row in csv.DictReader(handle)}


def hidden_files(folder: Path):
    return [p for p in folder.rglob(".*") if p.is_file()]


def start_batch(args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "MedRestoreLib", "batch", *args, "--progress", "json"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def wait_for_progress(process: subprocess.Popen, done: int, timeout: float = 120):
    """Read the JSON progress lines until ``done`` inputs are done; returns that event."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        if line.startswith("{"):
            event = json.loads(line)
            if event["event"] == "progress" and event["message"].startswith(f"{done} done"):
                return event
    raise AssertionError(f"no progress line with {done} done")


def test_a_folder_batch_writes_what_restore_writes_and_a_row_for_the_bad_input(tmp_path):
    paths = make_inputs(tmp_path / "in", 8, corrupt_one=True)
    status = main(["batch", str(tmp_path / "in"), str(tmp_path / "out"), "--workers", "2", "--device", "cpu",
                   "--quiet"])
    assert status == 3  # some inputs failed
    rows = summary(tmp_path / "out")
    assert len(rows) == 8 and rows["scan00.nrrd"]["status"] == "failed"
    assert str(paths[0]) in rows["scan00.nrrd"]["reason"] and not (tmp_path / "out" / "scan00.nrrd").exists()
    for path in paths[1:]:
        name = path.relative_to(tmp_path / "in").as_posix()
        assert rows[name]["status"] == "ok", rows[name]
        reference = tmp_path / "reference" / name
        reference.parent.mkdir(parents=True, exist_ok=True)
        assert main(["restore", str(path), str(reference), "--device", "cpu", "--quiet"]) == 0
        batch, single = read_volume(tmp_path / "out" / name), read_volume(reference)
        assert batch.array.dtype == single.array.dtype and np.array_equal(batch.array, single.array), name
        assert batch.has_same_geometry(single, tolerance=0)
    assert (tmp_path / "out" / "nested" / "deeper" / "scan07.nrrd").exists()
    assert len((tmp_path / "out" / "results.jsonl").read_text().splitlines()) == 8
    assert len({row["worker"] for row in rows.values()}) == 2  # both workers took inputs


def test_a_batch_runs_on_an_existing_scheduler_and_worker(tmp_path):
    make_inputs(tmp_path / "in", 3)
    scheduler_file = tmp_path / "scheduler.json"
    environment = dict(os.environ, PYTHONPATH=str(ROOT))
    bin_dir = Path(sys.executable).parent
    scheduler = subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                 env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        deadline = time.time() + 60
        while not scheduler_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nworkers", "1", "--nthreads", "1",
                                   "--no-dashboard", "--name", "external-worker"],
                                  env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert main(["batch", str(tmp_path / "in"), str(tmp_path / "out"), "--scheduler", address, *CLASSICAL,
                     "--device", "cpu", "--quiet"]) == 0
        rows = summary(tmp_path / "out")
        assert [row["status"] for row in rows.values()] == ["ok"] * 3
        assert len({row["worker"] for row in rows.values()}) == 1  # the one external worker
        assert read_volume(tmp_path / "out" / "nested" / "deeper" / "scan02.nrrd").shape == (16, 40, 40)
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
        for process in (worker, scheduler):
            if process is not None:
                assert process.wait(timeout=60) is not None
    assert scheduler.poll() is not None and worker.poll() is not None


def worker_processes(pid: int):
    """The embedded cluster's worker processes: children the Nannies spawned."""
    return [child for child in psutil.Process(pid).children(recursive=True)
            if "spawn_main" in " ".join(child.cmdline())]


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(tmp_path):
    count = 8
    make_inputs(tmp_path / "in", count)
    process = start_batch([str(tmp_path / "in"), str(tmp_path / "out"), "--workers", "2", "--device", "cpu"])
    try:
        wait_for_progress(process, 1)
        victim = worker_processes(process.pid)[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        _, stderr = process.communicate(timeout=300)
    finally:
        process.kill() if process.poll() is None else None
    assert process.returncode == 0, stderr[-2000:]
    records = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert sorted(r["output"] for r in records) == sorted(summary(tmp_path / "out"))  # each input once
    assert len(records) == count and all(r["status"] == "ok" for r in records)
    for record in records:  # every output complete: it reads back whole
        assert read_volume(tmp_path / "out" / record["output"]).shape == (16, 40, 40)
    assert not hidden_files(tmp_path / "out")  # no partial file of the killed worker's write
    assert len({r["worker"] for r in records}) >= 2


def test_a_stopped_batch_keeps_finished_outputs_and_resume_computes_only_the_rest(tmp_path):
    count = 6
    make_inputs(tmp_path / "in", count)
    process = start_batch([str(tmp_path / "in"), str(tmp_path / "out"), "--workers", "1", "--device", "cpu"])
    try:
        wait_for_progress(process, 1)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill() if process.poll() is None else None
    assert process.returncode == 130, stderr[-2000:]
    assert "interrupted after" in stderr and '"status": 130' in stderr
    assert not worker_processes(os.getpid())  # nothing of the cluster left running
    assert not hidden_files(tmp_path / "out")
    rows = summary(tmp_path / "out")
    finished = {name for name, row in rows.items() if row["status"] == "ok"}
    assert 1 <= len(finished) < count and all(rows[n]["status"] == "not run" for n in set(rows) - finished)
    # A task finishing as the stop arrives may have written its output without its row: complete too.
    present = {p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("scan*")}
    assert finished <= present and len(present) < count
    written = {name: (tmp_path / "out" / name).stat().st_mtime_ns for name in present}

    assert main(["batch", str(tmp_path / "in"), str(tmp_path / "out"), "--workers", "2", "--resume",
                 "--device", "cpu", "--quiet"]) == 0
    rows = summary(tmp_path / "out")
    assert {n for n, row in rows.items() if row["status"] == "skipped"} == present
    assert {n for n, row in rows.items() if row["status"] == "ok"} == set(rows) - present
    assert all((tmp_path / "out" / name).stat().st_mtime_ns == time_ns for name, time_ns in written.items())
    for name in rows:
        assert read_volume(tmp_path / "out" / name).shape == (16, 40, 40)


def test_ctrl_c_in_a_terminal_stops_the_whole_batch_quietly(tmp_path):
    # Ctrl+C sends SIGINT to the terminal's process group: the command and its worker processes.
    make_inputs(tmp_path / "in", 6)
    process = start_batch([str(tmp_path / "in"), str(tmp_path / "out"), "--workers", "2", "--device", "cpu"],
                          start_new_session=True)
    try:
        wait_for_progress(process, 1)
        cluster = psutil.Process(process.pid).children(recursive=True)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
    finally:
        process.kill() if process.poll() is None else None
    assert process.returncode == 130 and "Traceback" not in stderr, stderr[-2000:]
    time.sleep(0.5)
    assert not [p for p in cluster if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not hidden_files(tmp_path / "out")
    assert "not run" in (tmp_path / "out" / "summary.csv").read_text()


@pytest.mark.parametrize("extra, message", [
    (["--factor", "2"], "--factor applies to --task impute-slices, not restore"),
    (["--task", "impute-slices"], "needs exactly one of --factor and --missing"),
    (["--task", "detect", "--method", "telea"], "--method applies to --task restore"),
    (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "the cluster at --scheduler has its own workers"),
    (["--workers", "0"], "workers must be an integer ≥ 1"),
    (["--memory-limit", "lots"], "give a size like 4GB"),
    (["--resources", "GPU"], "give NAME=AMOUNT"),
])
def test_a_bad_command_line_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, extra, message):
    make_inputs(tmp_path / "in", 1)
    assert main(["batch", str(tmp_path / "in"), str(tmp_path / "out"), *extra, "--quiet"]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_no_input_found_exits_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["batch", str(tmp_path / "empty"), str(tmp_path / "out"), "--quiet"]) == 2
    assert "no NRRD, NIfTI, MetaImage or DICOM input found" in capsys.readouterr().err
