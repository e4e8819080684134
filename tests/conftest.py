"""Shared fixtures: the tiny real dataset (tests/fixtures/tiny) and editable copies of it."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from scheduler.dataset import load_dataset

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny"
REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "data" / "gia_lai_2024"


def pytest_configure(config) -> None:
    """Tests never read or fill the user's cache (~/.cache/loa): a cached solution would hide the
    solver from a test, and a test's would linger. Each test process gets an empty one."""
    os.environ.setdefault("LOA_CACHE_DIR", tempfile.mkdtemp(prefix="loa-test-cache-"))


@pytest.fixture(scope="session")
def tiny_dir() -> Path:
    return TINY


@pytest.fixture(scope="session")
def tiny():
    """The tiny dataset, loaded once (treat as read-only)."""
    return load_dataset(TINY)


@pytest.fixture
def tiny_copy(tmp_path) -> Path:
    """A private copy of the tiny dataset to break in one place."""
    dest = tmp_path / "tiny"
    shutil.copytree(TINY, dest)
    return dest


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace `old` by `new` in a text file, failing loudly if `old` is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
