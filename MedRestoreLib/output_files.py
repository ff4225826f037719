"""Every output file is written here: whole or not at all, and any failure is one line.

An output is written to a temporary file beside its final path, checked, flushed to the disk,
and only then renamed over the final path (an atomic step on every platform's local disks), so a
reader, a crash or a SIGKILL never meets a half-written file under the final name. Whatever goes
wrong on the output side — a read-only folder or mount, a missing folder, a path that is a
folder, a full disk, no permission, a writer library that fails — becomes an
:class:`InputError` naming the file and the reason, and the temporary file is removed.

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
import os
import tempfile
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple

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
        write: ``write(temporary_path)`` writes the whole content (its suffix is ``path``'s).
        verify: ``verify(temporary_path)`` raises when the written file is not whole (the image
            byte count, :func:`MedRestoreLib.file_integrity.check_image_file`), before the rename.

    Raises:
        InputError: the output cannot be written; one line naming ``path`` and the reason.
    """
    path = Path(path)
    check_output_path(path)
    suffix = "".join(path.suffixes[-2:]) if path.name.lower().endswith((".nii.gz", ".seg.nrrd", ".seq.nrrd")) \
        else path.suffix
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    except OSError as error:
        raise InputError(f"{path}: cannot be written ({describe_os_error(error)})") from None
    os.close(handle)
    try:
        write(temporary)
        if verify is not None:
            verify(temporary)
        _flush_to_disk(temporary)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        staged = _STAGED.get()
        if staged is None:
            os.replace(temporary, path)
        else:
            staged.append((temporary, path))
            temporary = ""  # renamed (or removed) when the block ends
    except OSError as error:
        raise InputError(f"{path}: cannot be written ({describe_os_error(error)})") from None
    except RuntimeError as error:  # the writer library (SimpleITK, matplotlib) failed
        raise InputError(f"{path}: cannot be written ({library_reason(error)})") from None
    except InputError as error:  # the written file failed its check (e.g. cut short by a full disk)
        raise InputError(f"{path}: cannot be written ({_without_path(str(error), temporary)})") from None
    finally:
        if temporary and os.path.lexists(temporary):
            os.remove(temporary)


@contextlib.contextmanager
def committed_together() -> Iterator[None]:
    """Outputs written inside the block replace their final paths only when the block completes;
    on any error or interrupt they are removed and no file is changed."""
    staged: List[Tuple[str, Path]] = []
    token = _STAGED.set(staged)
    try:
        yield
        for temporary, path in staged:
            try:
                os.replace(temporary, path)
            except OSError as error:
                raise InputError(f"{path}: cannot be written ({describe_os_error(error)})") from None
    finally:
        _STAGED.reset(token)
        for temporary, _ in staged:
            if os.path.lexists(temporary):
                os.remove(temporary)


def _flush_to_disk(name: str) -> None:
    """fsync, so that a power cut after the rename cannot leave a renamed but empty file."""
    with open(name, "rb+") as handle:
        os.fsync(handle.fileno())


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _without_path(message: str, temporary: str) -> str:
    """A check's message about the temporary file, without its name."""
    prefix = f"{temporary}: "
    return message[len(prefix):] if message.startswith(prefix) else message
