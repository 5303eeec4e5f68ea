"""Errors a person can act on.

Each carries the fields that locate it; `str()` is the one line the CLI
prints, and `exit_code` is what the process exits with.
"""

from __future__ import annotations

from pathlib import Path


def os_error_line(e: OSError) -> str:
    """A file rota had to read or write, and why it could not: one line."""
    where = f"{e.filename}: " if e.filename else ""
    return f"{where}{e.strerror or e}"


class RotaError(Exception):
    exit_code = 2

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class FileError(RotaError):
    """A problem at a place in a file: `path:line: field: message`."""

    def __init__(self, path: Path | str, line: int | None, field: str | None, message: str):
        self.path, self.line, self.field = str(path), line, field
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")
        self.detail = message


class RosterInvalid(RotaError):
    """One or more problems in a roster file; all of them are kept."""

    def __init__(self, errors: list[FileError]):
        self.errors = errors
        more = f" (and {len(errors) - 1} more: run `rota check` to see all)" if len(errors) > 1 else ""
        super().__init__(f"{errors[0]}{more}")


class StaleVersion(RotaError):
    """The file changed since the version the writer saw: a conflict that
    reloading and retrying resolves, not bad input (exit 1)."""

    exit_code = 1


class ConfigError(RotaError):
    """An outside system cannot be asked: its settings in the roster or its
    credentials in the environment are missing or malformed."""

    exit_code = 2


class ServiceError(RotaError):
    """An outside system failed: what it answered (`status`, and its own
    words in `details`) or why no answer came (`status` None). The next run
    may fare better, so it is a problem found (exit 1), not bad input."""

    exit_code = 1

    def __init__(self, message: str, status: int | None = None, details: str = ""):
        super().__init__(message)
        self.status, self.details = status, details
