"""Write a file so that a crash, a full disk or a failed write never leaves
it half-written: the old content stays until the new content is complete.

A path that is a symbolic link is written through: the link's target gets
the new content and the link stays a link."""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


class Staged:
    """New content, complete and flushed to disk in a temp file beside its
    target, not yet in place: `commit()` renames it over the target,
    `discard()` (or leaving the `with` block without committing) removes it.
    Staging first lets a caller do a last step (an audit entry) that must
    succeed before the file changes, knowing the write itself cannot fail
    for want of space any more."""

    def __init__(self, path: Path | str, data: bytes, mode: int | None = None):
        self.target = Path(os.path.realpath(path))
        directory = self.target.parent
        if not directory.is_dir():
            raise FileNotFoundError(errno.ENOENT, "no such directory", str(directory))
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            if mode is None:
                try:
                    mode = self.target.stat().st_mode & 0o7777
                except FileNotFoundError:
                    mode = 0o644
            os.chmod(self.tmp, mode)
        except BaseException:
            self.discard()
            raise

    def commit(self) -> None:
        try:
            os.replace(self.tmp, self.target)
        except BaseException:
            self.discard()
            raise
        self.tmp = None
        _fsync_directory(self.target.parent)

    def discard(self) -> None:
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass
            self.tmp = None

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, *_exc) -> None:
        self.discard()


def write_atomic(path: Path | str, data: bytes, mode: int | None = None) -> None:
    """Replace `path` (or the file it links to) with `data`: temp file in the
    same directory, fsync, rename over the original, fsync the directory.
    Keeps the file's mode unless `mode` is given."""
    with Staged(path, data, mode) as staged:
        staged.commit()


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # some platforms cannot open directories; the rename still happened
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
