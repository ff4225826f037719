"""Ending a child process together with the processes it started.

In Slicer the child is ``PythonSlicer``, a launcher that starts the real interpreter: ending only
the launcher would leave the worker running (MONAIAuto3DSeg's process.py hits the same). The
tree is asked to stop first (SIGTERM: the MedRestore CLI then removes its partial outputs and
exits with status 130), and whatever still runs after ``grace_s`` is killed.

No psutil (Slicer does not ship it): Linux reads /proc, macOS asks ``pgrep -P``, Windows uses
``taskkill /T``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List


def _children_linux() -> Dict[int, List[int]]:
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        # "pid (name) state ppid ...": the name may hold spaces and parentheses
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def _children_of(pid: int) -> List[int]:
    output = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(item) for item in output.split()]


def descendants(pid: int) -> List[int]:
    """Process ids started by ``pid``, directly or not (children before grandchildren)."""
    found: List[int] = []
    table = _children_linux() if Path("/proc/self/stat").exists() else None
    pending = [pid]
    while pending:
        parent = pending.pop(0)
        children = table.get(parent, []) if table is not None else _children_of(parent)
        found.extend(children)
        pending.extend(children)
    return found


def is_running(pid: int) -> bool:
    if sys.platform == "win32":
        output = subprocess.run(["tasklist", "/FI", f"PID eq {pid}", "/NH"],
                                capture_output=True, text=True).stdout
        return str(pid) in output
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # An ended child stays a zombie until its parent reads its exit status; it is not reaped
    # here, so the caller's Popen/QProcess still gets the status (130 after a clean stop).
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2:].split()[0] == "Z"
    except OSError:
        pass
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True).stdout
    return state.strip().startswith("Z")


def stop_process_tree(pid: int, grace_s: float = 3.0, poll_s: float = 0.05) -> bool:
    """Ask ``pid`` and its descendants to stop, kill what remains after ``grace_s``.

    Returns:
        True when every process of the tree has ended.
    """
    if sys.platform == "win32":
        # No SIGTERM on Windows: taskkill /T ends the tree; the caller removes the temp folder.
        subprocess.run(["taskkill", "/T", "/F", "/PID", str(pid)], capture_output=True)
        return not is_running(pid)
    tree = [pid] + descendants(pid)
    for member in reversed(tree):  # the worker first, so the launcher cannot restart it
        try:
            os.kill(member, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not any(is_running(member) for member in tree):
            return True
        time.sleep(poll_s)
    for member in tree:
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass
    time.sleep(poll_s)
    return not any(is_running(member) for member in tree)
