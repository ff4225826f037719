"""The batch report: results.jsonl line by line as results arrive, summary.csv in input order."""
import csv
import json

from MedRestoreLib.batch.report import Report


def record(name, status="ok", **values):
    return dict({"input": f"/in/{name}", "output": name, "status": status, "reason": "", "voxels_changed": 5,
                 "seconds": 1.5, "worker": "tcp://w:1", "peak_memory_mb": 300.0}, **values)


def rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_each_result_is_on_disk_before_the_next_arrives_and_the_summary_keeps_input_order(tmp_path):
    report = Report(tmp_path, ["a.nrrd", "b.nrrd", "c.nrrd"], resume=False)
    report.add(record("c.nrrd", "failed", reason="c: cannot be read", voxels_changed=None))
    assert json.loads((tmp_path / "results.jsonl").read_text())["status"] == "failed"  # flushed at once
    report.add(record("a.nrrd"))
    assert report.counts() == "1 done, 1 failed, 1 remaining"
    report.close({"b.nrrd": "/in/b.nrrd"})
    summary = rows(tmp_path / "summary.csv")
    assert [(r["output"], r["status"]) for r in summary] == [("a.nrrd", "ok"), ("b.nrrd", "not run"),
                                                             ("c.nrrd", "failed")]
    assert summary[2]["reason"] == "c: cannot be read" and summary[2]["voxels_changed"] == ""
    assert list(summary[0]) == ["input", "output", "status", "reason", "voxels_changed", "seconds", "worker",
                                "peak_memory_mb"]


def test_a_new_run_starts_the_results_afresh_and_a_resumed_one_appends_and_reuses_numbers(tmp_path):
    first = Report(tmp_path, ["a.nrrd"], resume=False)
    first.add(record("a.nrrd", voxels_changed=42))
    first.close({})
    with open(tmp_path / "results.jsonl", "a") as handle:
        handle.write('{"input": "/in/a.nrrd", "out')  # a line cut by a crash is ignored
    resumed = Report(tmp_path, ["a.nrrd"], resume=True)
    resumed.add(record("a.nrrd", "skipped", voxels_changed=None, worker=None))
    resumed.close({})
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["status"] == "skipped"
    (row,) = rows(tmp_path / "summary.csv")
    assert row["status"] == "skipped" and row["voxels_changed"] == "42" and row["worker"] == "tcp://w:1"
    Report(tmp_path, ["a.nrrd"], resume=False).close({})
    assert (tmp_path / "results.jsonl").read_text() == ""
