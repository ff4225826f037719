"""Stopping a real process tree (child, grandchild, great-grandchild) through psutil."""
import ast
import subprocess
import sys
import time
from pathlib import Path

from MedRestoreLib.background import process_tree
from MedRestoreLib.background.process_tree import descendants, is_running, stop_process_tree

# Each level starts the next and then sleeps; the deepest prints its pid when it is ready.
LEAF = "import time; print('ready', flush=True); time.sleep(60)"


def _level(code: str) -> str:
    return f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {code!r}]); time.sleep(60)"


def _start_tree(depth: int) -> subprocess.Popen:
    code = LEAF
    for _ in range(depth - 1):
        code = _level(code)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)


def _wait_for_descendants(pid: int, count: int) -> list:
    deadline = time.monotonic() + 15
    while len(descendants(pid)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return descendants(pid)


def test_the_whole_tree_is_listed_children_before_grandchildren():
    root = _start_tree(3)
    try:
        found = _wait_for_descendants(root.pid, 2)
        assert len(found) == 2
        import psutil

        assert psutil.Process(found[0]).ppid() == root.pid
        assert psutil.Process(found[1]).ppid() == found[0]
    finally:
        stop_process_tree(root.pid, grace_s=1.0)
        root.wait(timeout=5)


def test_terminate_ends_every_level_and_leaves_the_exit_status_to_its_parent():
    root = _start_tree(3)
    members = [root.pid] + _wait_for_descendants(root.pid, 2)
    assert len(members) == 3
    started = time.monotonic()
    assert stop_process_tree(root.pid, grace_s=2.0)
    assert time.monotonic() - started < 2.0  # SIGTERM was enough: no wait for the grace period
    # Not reaped by the stop: Popen still reads the real status (killed by SIGTERM / terminated).
    assert root.wait(timeout=5) != 0
    assert not any(is_running(pid) for pid in members)


def test_an_ended_child_not_yet_reaped_counts_as_ended():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while is_running(child.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not is_running(child.pid)  # a zombie until wait() below
    assert child.wait(timeout=5) == 0  # its status is still there to read


def test_stopping_a_process_that_has_ended_is_not_an_error():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=10)
    assert stop_process_tree(child.pid, grace_s=0.1)
    assert descendants(child.pid) == []


def test_no_platform_specific_tools_are_started():
    # /proc exists only on Linux; taskkill/tasklist flash a console window on Windows. The code
    # (docstrings aside) imports psutil only and names none of them.
    tree = ast.parse(Path(process_tree.__file__).read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef)) and ast.get_docstring(node)}
    strings = [node.value for node in ast.walk(tree)
               if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names} | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "psutil" in imported and not imported & {"subprocess", "os", "signal"}
    for word in ("/proc", "taskkill", "tasklist", "pgrep"):
        assert not any(word in text for text in strings), word
