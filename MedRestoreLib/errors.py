"""Exceptions shared by the engine, the CLI and the Slicer logic."""


class InputError(ValueError):
    """Bad input or usage: the CLI prints the message on one line and exits with status 2."""


class Cancelled(RuntimeError):
    """Raised inside long work when the caller's ``cancel()`` returns True."""
