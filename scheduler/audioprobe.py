"""One audio probe for the loader and the exporters: duration, checksum and loudness of a file.

Decoding (pydub + Debian ffmpeg) is the slow part, so its results are kept by content (size +
SHA-256) in memory and in `audio.json` under the cache folder ($LOA_CACHE_DIR, else
$XDG_CACHE_HOME/loa or ~/.cache/loa; `LOA_CACHE_DIR=off` disables it): copies of a file and
re-runs decode nothing twice. Every failure is a ProbeError naming the file and saying why.
"""
from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from .fsutil import cache_root, write_cache_atomic
from .limits import MAX_AUDIO_BYTES

PROBE_THREADS = min(8, 2 * (os.cpu_count() or 1))  # ffmpeg decodes outside the GIL

_MEMORY: dict[str, tuple[float, float]] = {}  # "size:sha256" -> (duration_s, dbfs)
T = TypeVar("T")


@dataclass(frozen=True)
class AudioInfo:
    """What plans and manifests say about one audio file: its real duration, sha256 and loudness."""

    path: Path
    duration_s: float
    sha256: str
    dbfs: float


class ProbeError(Exception):
    """A file that cannot be aired; the message names the file. `reason` is one of missing,
    unreadable, needs-ffmpeg, undecodable, empty, silent (the loader words its problem by it).

    `detail` keeps the decoder's full output (the loader shows its last line, the message its first).
    """

    def __init__(self, path: Path, reason: str, message: str, detail: str = ""):
        self.path, self.reason, self.detail = Path(path), reason, detail or message
        self.message = message
        super().__init__(f"{path}: {message}")

    def at(self, path: Path) -> ProbeError:
        """The same failure for a copy of the file at `path`."""
        return ProbeError(path, self.reason, self.message, self.detail)


def cache_file() -> Path | None:
    base = cache_root()
    return None if base is None else base / "audio.json"


def _read_disk() -> dict[str, tuple[float, float]]:
    path = cache_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        k: (float(v[0]), float(v[1])) for k, v in data.items()
        if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v)
    }


def _write_disk(new: dict[str, tuple[float, float]]) -> None:
    path = cache_file()
    if not path or not new:
        return
    try:
        merged = {**_read_disk(), **new}
        write_cache_atomic(path, json.dumps({k: list(v) for k, v in merged.items()}, sort_keys=True))
    except OSError:
        pass  # a cache only: never fail a run because it cannot be written


def _check_file(path: Path) -> None:
    """A regular, readable file of at most MAX_AUDIO_BYTES (a FIFO would hang the decoder, a
    device or a huge file exhaust memory, a link loop is named as such)."""
    try:
        st = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ProbeError(path, "unreadable", "audio path is a symbolic link loop") from None
        raise ProbeError(path, "missing", "audio file not found") from None
    if not stat.S_ISREG(st.st_mode):
        raise ProbeError(path, "unreadable", "audio path is not a regular file (a FIFO, device or folder)")
    if st.st_size > MAX_AUDIO_BYTES:
        raise ProbeError(path, "unreadable", f"audio file is larger than {MAX_AUDIO_BYTES // 2**20} MB")
    if not os.access(path, os.R_OK):
        raise ProbeError(path, "unreadable", "audio file is not readable (permissions)")


def _content_key(path: Path) -> str:
    """'size:sha256' of the file's bytes, read in blocks."""
    _check_file(path)
    digest, size = hashlib.sha256(), 0
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    except OSError as exc:
        raise ProbeError(path, "unreadable", f"audio file is not readable ({exc.strerror or exc})", str(exc)) from None
    return f"{size}:{digest.hexdigest()}"


def decode(path: Path):
    """The decoded audio (a pydub AudioSegment); ProbeError if missing, unreadable or undecodable."""
    from pydub import AudioSegment

    path = Path(path)
    _check_file(path)
    if path.suffix.lower() != ".wav" and shutil.which("ffmpeg") is None:
        raise ProbeError(path, "needs-ffmpeg", "decoding needs ffmpeg (apt-get install ffmpeg)")
    try:
        return AudioSegment.from_file(path)
    except Exception as exc:  # pydub/ffmpeg: any failure means the file cannot be decoded
        detail = str(exc).strip() or type(exc).__name__
        first = detail.splitlines()[0]
        raise ProbeError(path, "undecodable", f"audio file cannot be decoded ({first[:200]})", detail) from None


def _measure(path: Path) -> tuple[float, float]:
    """(duration_s, dbfs) of a file that has sound; ProbeError otherwise."""
    seg = decode(path)
    if len(seg) == 0 or seg.frame_count() == 0:
        raise ProbeError(path, "empty", "audio file is empty (0 s)")
    if seg.max == 0 or math.isinf(seg.dBFS):
        raise ProbeError(path, "silent", "audio file is silent (every sample is zero)")
    return round(seg.frame_count() / seg.frame_rate, 3), round(seg.dBFS, 2)


def _each(fn: Callable[[Path], T], paths: list[Path]) -> list[T | ProbeError]:
    """fn over paths, a few threads at a time, each ProbeError returned in place of its result."""
    def attempt(path: Path) -> T | ProbeError:
        try:
            return fn(path)
        except ProbeError as exc:
            return exc

    if len(paths) <= 1:
        return [attempt(p) for p in paths]
    with ThreadPoolExecutor(max_workers=min(PROBE_THREADS, len(paths))) as pool:
        return list(pool.map(attempt, paths))


def probe_many(paths: Iterable[Path]) -> dict[Path, AudioInfo | ProbeError]:
    """Every distinct file's AudioInfo, or the ProbeError saying why it cannot be aired, by path
    (sorted). Files already measured (same bytes, any path, this run or an earlier one) are only
    checksummed; each new content is decoded once."""
    todo = sorted({Path(p) for p in paths})
    keys = dict(zip(todo, _each(_content_key, todo)))
    if any(isinstance(k, str) and k not in _MEMORY for k in keys.values()):
        for key, value in _read_disk().items():
            _MEMORY.setdefault(key, value)
    first: dict[str, Path] = {}
    for path, key in keys.items():
        if isinstance(key, str) and key not in _MEMORY:
            first.setdefault(key, path)
    measured = dict(zip(first, _each(_measure, list(first.values()))))
    new = {k: m for k, m in measured.items() if not isinstance(m, ProbeError)}
    _MEMORY.update(new)
    _write_disk(new)
    out: dict[Path, AudioInfo | ProbeError] = {}
    for path, key in keys.items():
        if isinstance(key, ProbeError):
            out[path] = key
        elif key in _MEMORY:
            duration, dbfs = _MEMORY[key]
            out[path] = AudioInfo(path=path, duration_s=duration, sha256=key.partition(":")[2], dbfs=dbfs)
        else:
            out[path] = measured[key].at(path)
    return out


def probe(path: Path) -> AudioInfo:
    """Duration, checksum and loudness of one file; ProbeError when it is missing, unreadable,
    undecodable, empty or silent (every sample zero)."""
    path = Path(path)
    result = probe_many([path])[path]
    if isinstance(result, ProbeError):
        raise result
    return result
