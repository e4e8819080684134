"""Shared fixtures: the tiny real dataset (tests/fixtures/tiny) and editable copies of it, speech
made by espeak-ng, and a real Radicale CalDAV server."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from scheduler.dataset import load_dataset

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "tiny"
REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "data" / "gia_lai_2024"
STORM = "Cơn bão số ba đang tiến vào đất liền. Bà con chú ý chằng chống nhà cửa, không ra đồng."


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


def speak(path: Path, text: str = STORM) -> Path:
    """`text` spoken by espeak-ng, encoded by ffmpeg to the format of `path`'s extension."""
    wav = path.with_suffix(".speech.wav")
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), text], check=True, timeout=60)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(wav), str(path)], check=True, timeout=60)
    wav.unlink()
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under a folder (hidden temp files included) with its bytes; the lock file, empty
    and never an output, aside."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and p.name != ".loa.lock"}


USER, PASSWORD = "canbo", "mat-khau-thu"  # the Radicale test user


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def radicale(tmp_path_factory):
    """A real Radicale on 127.0.0.1 (random port, temp storage, plain htpasswd user); stopped by PID."""
    root = tmp_path_factory.mktemp("radicale")
    (root / "users").write_text(f"{USER}:{PASSWORD}\n")
    port = _free_port()
    config = root / "config"
    config.write_text(
        "[server]\n"
        f"hosts = 127.0.0.1:{port}\n"
        "[auth]\n"
        "type = htpasswd\n"
        f"htpasswd_filename = {root / 'users'}\n"
        "htpasswd_encryption = plain\n"
        "[storage]\n"
        f"filesystem_folder = {root / 'collections'}\n"
        "[logging]\n"
        "level = warning\n"
    )
    log = open(root / "radicale.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Radicale did not start:\n" + (root / "radicale.log").read_text())
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> Path:
    """A real recording, made once per session: STORM spoken by espeak-ng, encoded to Ogg."""
    return speak(tmp_path_factory.mktemp("speech") / "bao-so-3.ogg")
