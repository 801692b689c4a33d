"""Writing files safely: atomic replacement with the permissions the user's umask gives.

Every file structkit writes (tables, figures, HTML pages, cache entries) goes through
``atomic_write``: the content is written to a hidden temporary file in the target directory and
renamed over the target, so a failure or an interruption never leaves a half-written file under
the target name; the temporary file is removed on failure. The temporary file is created with
mode 0666 and the kernel applies the process umask (0644 under umask 022), as for a file opened
with ``open(path, "w")``; ``tempfile.mkstemp`` would give 0600.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_many", "sha256_file"]


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (hex digest)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def _clean_stale(p: Path) -> None:
    """Remove temporaries of ``p`` left by a structkit process that no longer runs (killed
    before it could clean up): ``.<name>.<pid>-<hex>.part<suffix>`` with a dead pid."""
    prefix, suffix = f".{p.name[:200]}.", f".part{p.suffix}"
    try:
        siblings = list(p.parent.iterdir())
    except OSError:
        return
    for t in siblings:
        name = t.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        tag = name[len(prefix):-len(suffix)]
        pid, _, _ = tag.partition("-")
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            t.unlink(missing_ok=True)


def _new_temp(p: Path) -> Path:
    """A new empty hidden file next to ``p`` (exclusive create, mode 0666 minus the umask),
    named with this process's pid so that a later run can remove it if this one is killed."""
    _clean_stale(p)
    for _ in range(100):
        t = p.with_name(f".{p.name[:200]}.{os.getpid()}-{secrets.token_hex(4)}.part{p.suffix}")
        try:
            os.close(os.open(t, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return t
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {p}")


@contextmanager
def atomic_write(path: str | os.PathLike, *, fsync: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    The caller writes the temporary path (any writer that takes a path). Parent directories are
    created. ``fsync`` flushes the data to disk before the rename (cache entries).
    """
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"output {p} is a directory; give a file name")
    p.parent.mkdir(parents=True, exist_ok=True)
    t = _new_temp(p)
    try:
        yield t
        if fsync:
            with open(t, "rb") as fh:
                os.fsync(fh.fileno())
        os.replace(t, p)
    except BaseException:
        t.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_write_many(paths) -> Iterator[list[Path]]:
    """``atomic_write`` for a set of files that belong together (a cohort's sheets): yield one
    temporary path per target; only when all are written are they renamed, so a failure leaves
    every previous file as it was and no new one."""
    ps = [Path(x) for x in paths]
    for p in ps:
        if p.is_dir():
            raise IsADirectoryError(f"output {p} is a directory; give a file name")
        p.parent.mkdir(parents=True, exist_ok=True)
    temps: list[Path] = []
    try:
        temps.extend(_new_temp(p) for p in ps)
        yield temps
        for t, p in zip(temps, ps, strict=True):
            os.replace(t, p)
    except BaseException:
        for t in temps:
            t.unlink(missing_ok=True)
        raise
