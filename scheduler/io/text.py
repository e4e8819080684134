"""A dataset file as text: what every other reader starts from."""
from __future__ import annotations

import os
from pathlib import Path

from ..fsutil import read_regular
from ..limits import MAX_DATASET_FILE_BYTES
from .schema import Problems


def read_text(root: Path, name: str, problems: Problems, required: bool = True,
              path: Path | None = None) -> str | None:
    """The file's text: UTF-8 (BOM tolerated), not empty, no NUL; None (and a problem) otherwise.

    Only a regular file of at most MAX_DATASET_FILE_BYTES is read: a FIFO, a device (a link to
    /dev/zero) or a huge file is a problem, never a hang or an exhausted memory. A missing
    optional file (`required=False`) is None without a problem. `path` reads another file in
    place of root/name (a staged candidate), its problems still named `name`.
    """
    path = root / name if path is None else Path(path)
    if not os.path.lexists(path):
        if required:
            problems.add(name, None, None, None, f"the file to exist in {root}")
        return None
    try:
        raw = read_regular(path, MAX_DATASET_FILE_BYTES)
    except OSError as exc:
        problems.add(name, None, None, None, f"a readable regular file of at most "
                     f"{MAX_DATASET_FILE_BYTES // 2**20} MB ({exc.strerror or exc})")
        return None
    try:
        text = decode_utf8(raw)
    except NotUtf8 as exc:
        problems.add(name, exc.line, None, exc.value, "UTF-8 text (save the file as UTF-8)")
        return None
    if not text.strip():
        problems.add(name, None, None, None, "a non-empty file")
        return None
    if "\x00" in text:
        problems.add(name, text[: text.index("\x00")].count("\n") + 1, None, None, "text without NUL bytes")
        return None
    return text


class NotUtf8(ValueError):
    """Bytes that are not UTF-8: the line of the first bad byte and the bytes there, in hex."""

    def __init__(self, line: int, value: str):
        super().__init__(f"line {line}: not UTF-8 ({value})")
        self.line, self.value = line, value


def decode_utf8(raw: bytes) -> str:
    """The bytes as UTF-8 text, a leading BOM dropped; NotUtf8 otherwise."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUtf8(raw[: exc.start].count(b"\n") + 1, raw[exc.start : exc.start + 4].hex(" ")) from None
