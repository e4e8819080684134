"""TOML files (dataset.toml, profiles.toml) parsed into plain trees."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from .schema import Problems
from .text import read_text


def toml_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    """The line a TOML syntax error is on (Python 3.11 only says it in the message)."""
    line = getattr(exc, "lineno", None)
    if line is None:
        m = re.search(r"at line (\d+)", str(exc))
        line = int(m.group(1)) if m else None
    return line


def read_toml(root: Path, name: str, problems: Problems, required: bool = True) -> dict | None:
    text = read_text(root, name, problems, required=required)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.add(name, toml_error_line(exc), None, None, f"valid TOML ({exc})")
        return None
