"""Atomic writes (a failed run never leaves half a file behind) and the cache folder."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write to a temp file in the same folder, fsync, then rename over the target."""
    return write_chunks_atomic(path, (data,))


def write_chunks_atomic(path: Path, chunks: Iterable[bytes]) -> Path:
    """`write_bytes_atomic` for content made piece by piece (a big file never held whole)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def cache_root() -> Path | None:
    """Where loa keeps what it can compute again (audio probes, solved units): $LOA_CACHE_DIR,
    else $XDG_CACHE_HOME/loa or ~/.cache/loa; None when LOA_CACHE_DIR=off."""
    configured = os.environ.get("LOA_CACHE_DIR")
    if configured == "off":
        return None
    return Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "loa"
