"""The batch throughput benchmark, run small: a real shell loop of `medrestore restore` and a
real `medrestore batch`, timed, with the outputs compared."""
import json

import pytest

from MedRestoreLib.benchmark.batch import main

pytest.importorskip("distributed")


def test_the_loop_and_the_batch_are_timed_and_write_identical_outputs(tmp_path):
    main(["--out", str(tmp_path), "--count", "2", "--size", "24", "--workers", "1", "--detector", "median-mad",
          "--method", "biharmonic3d"])
    result = json.loads((tmp_path / "batch.json").read_text())
    assert result["loop"]["seconds"] > 0 and result["loop"]["peak_memory_mb"] > 50
    run = result["batch"]["1"]
    assert run["volumes"] == 2 and run["failed"] == 0 and run["identical_to_loop"] == 2
    (worker,) = run["workers"].values()
    assert worker["volumes"] == 2 and worker["last_mb"] >= worker["first_mb"] > 50
    table = (tmp_path / "batch.md").read_text()
    assert "| `medrestore batch --workers 1` |" in table and "worker memory, first → last volume" in table
    assert sorted(p.name for p in (tmp_path / "loop").iterdir()) == ["scan000.nrrd", "scan001.nrrd"]
