"""A child process's output, as it arrives in chunks of bytes, turned into whole text lines.

``QProcess.readAllStandardOutput()`` returns whatever bytes are there: a multi-byte UTF-8
character ("é", "→", "…" in the CLI's messages) may be cut between two reads. Decoding each
chunk on its own turns both halves into replacement characters; an incremental decoder keeps the
first bytes until the rest arrives, and the line buffer keeps a line until its end arrives.

Example:
    >>> lines = OutputLines()
    >>> lines.feed(b"caf\\xc3")
    []
    >>> lines.feed(b"\\xa9 done\\nnext")
    ['café done']
    >>> lines.finish()
    ['next']
"""
from __future__ import annotations

import codecs
from typing import List, Union


class OutputLines:
    """Bytes (or text) in, complete lines out, without their line endings ("\\n" or "\\r\\n")."""

    def __init__(self, encoding: str = "utf-8"):
        # errors="replace": a child writing bytes that are not UTF-8 must not stop the panel.
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._pending = ""

    def feed(self, data: Union[bytes, bytearray, memoryview, str]) -> List[str]:
        """Take the next chunk; returns the lines it completed."""
        text = data if isinstance(data, str) else self._decoder.decode(bytes(data))
        *lines, self._pending = (self._pending + text).split("\n")
        return [line[:-1] if line.endswith("\r") else line for line in lines]

    def finish(self) -> List[str]:
        """The process ended: the last line, if it had no line end (an incomplete character at
        the very end becomes one replacement character)."""
        rest = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        self._decoder.reset()
        rest = rest[:-1] if rest.endswith("\r") else rest
        return [rest] if rest else []
