"""Ending a child process together with the processes it started, on Linux, macOS and Windows.

In Slicer the child is ``PythonSlicer``, a launcher that starts the real interpreter: ending only
the launcher would leave the worker running (MONAIAuto3DSeg's process.py hits the same). The
tree is asked to stop first (``terminate``: SIGTERM on Linux and macOS, where the MedRestore CLI
then removes its partial outputs and exits with status 130; ``TerminateProcess`` on Windows),
and whatever still runs after ``grace_s`` is killed.

``psutil`` lists the tree and signals it the same way on every system, without reading /proc
(absent on Windows and macOS) and without starting ``taskkill``/``tasklist`` (each would flash a
console window on Windows). It is one of the module's requirements (Resources/requirements.txt)
and imported only when a tree is stopped, so the panel loads before the first install.

Example:
    >>> process = subprocess.Popen(["PythonSlicer", "-m", "MedRestoreLib", "restore", ...])
    >>> stop_process_tree(process.pid, grace_s=1.5)
    True
"""
from __future__ import annotations

import time
from typing import List


def descendants(pid: int) -> List[int]:
    """Process ids started by ``pid``, directly or not (children before grandchildren); [] when
    ``pid`` has ended."""
    import psutil

    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def is_running(pid: int) -> bool:
    """Whether ``pid`` still runs. An ended child that its parent has not reaped yet (a zombie)
    counts as ended: it is not reaped here, so the caller's Popen/QProcess still gets its exit
    status (130 after a clean stop)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_process_tree(pid: int, grace_s: float = 3.0, poll_s: float = 0.05) -> bool:
    """Ask ``pid`` and its descendants to stop, kill what remains after ``grace_s`` seconds.

    Returns:
        True when every process of the tree has ended.
    """
    import psutil

    try:
        root = psutil.Process(pid)
        tree = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return True
    for member in reversed(tree):  # the worker first, so the launcher cannot restart it
        _signal(member, "terminate")
    # Polled, not psutil.wait_procs: waiting on our own child would reap it and take its exit
    # status away from the Popen/QProcess that started it.
    if _wait_until_ended(tree, time.monotonic() + grace_s, poll_s):
        return True
    for member in tree:
        _signal(member, "kill")
    return _wait_until_ended(tree, time.monotonic() + 1.0, poll_s)


def _signal(process, how: str) -> None:
    import psutil

    try:
        getattr(process, how)()
    except psutil.NoSuchProcess:
        pass


def _wait_until_ended(tree, deadline: float, poll_s: float) -> bool:
    while True:
        if not any(_alive(member) for member in tree):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)


def _alive(process) -> bool:
    import psutil

    try:
        # is_running() also checks the pid was not reused by another process meanwhile.
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
