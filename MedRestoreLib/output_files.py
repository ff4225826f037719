"""Every output file is written here: whole or not at all, and any failure is one line.

An output is written into a private temporary folder beside its final path (with the final
name, so that a detached header such as ``.nhdr``/``.mhd``/``.hdr`` names its data file rightly),
checked, flushed to the disk, and only then renamed into place (an atomic step on every
platform's local disks; a header after its data file), so a reader, a crash or a SIGKILL never
meets a half-written file under the final name. Whatever goes wrong on the output side — a
read-only folder or mount, a missing folder, a path that is a folder, a full disk, no
permission, a writer library that fails — becomes an :class:`InputError` naming the file and
the reason, and the temporary folder is removed.

Inside :func:`committed_together` (how the command line runs a command) the renames wait for the
end of the block: all outputs of a run appear together when it succeeds, and a run that fails or
is interrupted removes its temporary files and leaves every file as it was, earlier versions of
its outputs included.

Example:
    >>> write_atomically("report.json", lambda temporary: Path(temporary).write_text(text))
"""
from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import tempfile
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, ContextManager, Iterator, List, Optional, Tuple

from .errors import InputError, library_reason, one_line

# What a user can do something about, in their words (other errors: the system's own text).
_REASONS = {
    errno.EROFS: "the folder is on a read-only file system",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "it is a folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ENOENT: "the folder does not exist",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EFBIG: "the file is too large for this file system",
}

# The outputs written so far inside committed_together(): (temporary, final) pairs. A ContextVar
# (not a plain global) so that threads and nested runs each see their own.
_STAGED: ContextVar[Optional[List[Tuple[str, Path]]]] = ContextVar("medrestore_staged_outputs", default=None)


def describe_os_error(error: OSError) -> str:
    """The reason of an OS error in a few words, for a one-line message."""
    if error.errno in _REASONS:
        return _REASONS[error.errno]
    return one_line(error.strerror or str(error)) or "input/output error"


def check_output_path(path) -> None:
    """Refuse, before any work, an output whose folder is missing or not writable, or which is a folder.

    Raises:
        InputError: one line naming the path and the reason.
    """
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise InputError(f"{path}: cannot be written (it is a folder); give a file name")
    if not folder.is_dir():
        raise InputError(f"{path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        # access() answers EROFS for a read-only mount even to root, and EACCES to others.
        reason = _REASONS[errno.EROFS] if _read_only(folder) else "permission denied"
        raise InputError(f"{path}: cannot be written ({reason})")


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):
        return False


def write_atomically(path, write: Callable[[str], None],
                     verify: Optional[Callable[[str], None]] = None) -> None:
    """Write ``path`` through a temporary file in its folder; nothing is left behind on failure.

    Args:
        path: the final file.
        write: ``write(temporary_path)`` writes the whole content (same file name as ``path``,
            in a private temporary folder; files written beside it move into place with it).
        verify: ``verify(temporary_path)`` raises when the written file is not whole (the image
            byte count, :func:`MedRestoreLib.file_integrity.check_image_file`), before the rename.

    Raises:
        InputError: the output cannot be written; one line naming ``path`` and the reason.
    """
    path = Path(path)
    check_output_path(path)
    try:
        staging = tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as error:
        raise InputError(f"{path}: cannot be written ({describe_os_error(error)})") from None
    temporary = os.path.join(staging, path.name)
    try:
        write(temporary)
        if verify is not None:
            verify(temporary)
        for name in os.listdir(staging):
            _flush_to_disk(os.path.join(staging, name))
        staged = _STAGED.get()
        if staged is None:
            _move_into_place(staging, path)
        else:
            staged.append((staging, path))
            staging = ""  # moved into place (or removed) when the block ends
    except OSError as error:
        raise InputError(f"{path}: cannot be written ({describe_os_error(error)})") from None
    except RuntimeError as error:  # the writer library (SimpleITK, matplotlib) failed
        reason = _REASONS[errno.ENOSPC] if _disk_full(path.parent) else library_reason(error)
        raise InputError(f"{path}: cannot be written ({reason})") from None
    except InputError as error:  # the written file failed its check (e.g. cut short by a full disk)
        reason = _REASONS[errno.ENOSPC] if _disk_full(path.parent) else _without_path(str(error), temporary)
        raise InputError(f"{path}: cannot be written ({reason})") from None
    finally:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)


def partial_writes(path) -> List[Path]:
    """What writes of ``path`` killed outright (SIGKILL, power loss) left behind: the private
    staging folders :func:`write_atomically` makes beside it, ``.<name>.<random>/``."""
    path = Path(path)
    return sorted(p for p in path.parent.glob(f".{glob.escape(path.name)}.*") if p.is_dir())


def _move_into_place(staging: str, path: Path) -> None:
    """Rename the files of a finished output into the target folder, the named file last: a
    detached header (``.nhdr``, ``.mhd``, ``.hdr``) appears only once its data file is there."""
    names = sorted(os.listdir(staging), key=lambda name: name == path.name)
    for name in names:
        os.replace(os.path.join(staging, name), path.parent / name)
    os.rmdir(staging)


@contextlib.contextmanager
def committed_together(while_moving: Callable[[], ContextManager] = contextlib.nullcontext) -> Iterator[None]:
    """Outputs written inside the block replace their final paths only when the block completes;
    on any error or interrupt they are removed and no file is changed.

    Args:
        while_moving: a context the final renames run in (the command line defers stop
            requests there, so that a stop cannot leave half of the outputs renamed).
    """
    staged: List[Tuple[str, Path]] = []
    token = _STAGED.set(staged)
    try:
        yield
        with while_moving():
            for staging, path in staged:
                try:
                    _move_into_place(staging, path)
                except OSError as error:
                    raise InputError(f"{path}: cannot be written ({describe_os_error(error)})") from None
    finally:
        _STAGED.reset(token)
        for staging, _ in staged:
            shutil.rmtree(staging, ignore_errors=True)


def _disk_full(folder: Path) -> bool:
    """Whether the folder's file system is (nearly) full: libraries report a full disk in their
    own words ("failed to write to file") or not at all (NIfTI), so their failure is checked
    against the free space, taken while the partial temporary file still holds its share."""
    try:
        status = os.statvfs(folder)
    except (AttributeError, OSError):
        return False
    return status.f_bavail * status.f_frsize < 64 * 1024


def _flush_to_disk(name: str) -> None:
    """fsync, so that a power cut after the rename cannot leave a renamed but empty file."""
    with open(name, "rb+") as handle:
        os.fsync(handle.fileno())


def _without_path(message: str, temporary: str) -> str:
    """A check's message about the temporary file, without its name."""
    prefix = f"{temporary}: "
    return message[len(prefix):] if message.startswith(prefix) else message
