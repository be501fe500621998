"""Two file helpers every package uses: a file replaced in one rename, and a file's sha256.

One place for each, so that every write a reader may see half-done (the manifest, the
fetch cache, a document copied into the corpus, the model's marker) goes the same safe way,
and every checksum (documents, index files, the model) is computed the same way.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one rename (a reader sees the old or the new file),
    keeping the file's permissions (0644 for a new file). The bytes are on disk before the
    rename, so a crash leaves the old file or the new one, never a part of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, in hex, read in blocks (a large PDF or index file is
    never held in memory whole)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
