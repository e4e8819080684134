"""Atomic files and atomic runs: a failed or killed run never changes what an earlier run wrote.

- `write_bytes_atomic`: one file (temp file in the same folder, fsync, rename);
  `write_chunks_atomic` the same for content made piece by piece (a big file never held whole).
- `read_regular`: bounded reading that refuses FIFOs, devices, folders and oversized files, so a
  hostile path can neither hang nor exhaust memory.
- `is_inside`: a path's real location (symbolic links resolved) lies under a root.
- `OutputRun`: every output of one run under `--out` as one transaction:
  * a lock (`fcntl.flock` on `<out>/.loa.lock`) stops a second run on the same folder;
  * each folder the run owns (e.g. `calendars/2024-W10`) is cloned with hard links into a staging
    folder `<out>/.loa-staging/<id>/new/`, and every file is written there (replacing, never
    modifying, a linked file, so the live copy keeps its bytes);
  * `commit` writes a journal, then switches each folder in with two renames (the live one
    moves to `<id>/old/`). A run killed before the journal leaves only a staging folder, removed
    at the next start; one killed after it is rolled forward at the next start, so a week is
    never left half old, half new;
  * `write_chunks_behind` stages a big file (plan.json) from a forked process while the run
    goes on (the exports), and `commit` waits for it. A forked child never keeps the lock.
- `folder_lock`: the same lock on any folder, for a change made in place (`loa add-item` appending
  to a dataset), waiting a while for the holder instead of failing at once.
- `cache_root`: the folder where loa keeps what it can compute again (audio probes, solved units).
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

from .errors import BugError, BusyError, DataError, ExportError, LoaError, Problem

LOCK_NAME = ".loa.lock"
STAGING_NAME = ".loa-staging"
JOURNAL_NAME = "commit.json"
# A run's lock is shared by every process it forks until the child lets go of it (at once, in
# `_drop_locks_in_child`); a child of a run just killed can hold it for a few milliseconds more
LOCK_GRACE_S = 1.0
WRITE_THREADS = 8  # each file is fsynced before its rename: threads overlap those waits
_TMP_RE = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")  # what write_bytes_atomic leaves when killed


# --------------------------------------------------------------------------- single files


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Write to a temp file in the same folder, fsync, then rename over the target."""
    return write_chunks_atomic(path, (data,))


def write_chunks_atomic(path: Path, chunks: Iterable[bytes], durable: bool = True) -> Path:
    """`write_bytes_atomic` for content made piece by piece (a big file never held whole)."""
    path = Path(path)
    tmp = stage_chunks(path, chunks, durable=durable)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    return path


def stage_chunks(path: Path, chunks: Iterable[bytes], mode: int = 0o644, durable: bool = True) -> Path:
    """Write a temp file next to `path` (fsynced unless not `durable`, `mode`) and return it;
    `path` itself is not touched. A killed writer leaves a name `clean_stale_tmp` recognises."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb", buffering=1 << 20) as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        _unlink(Path(tmp))
        raise
    return Path(tmp)


def publish_new(tmp: Path, path: Path) -> None:
    """Give a staged file its name, which must not exist yet (FileExistsError otherwise): a hard
    link never replaces a file; where links are not supported, a rename after a check. The temp
    name is gone afterwards."""
    try:
        os.link(tmp, path, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "file exists", str(path)) from None
        os.rename(tmp, path)
    else:
        os.unlink(tmp)
    _fsync_dir(Path(path).parent)


def _holds(path: Path, data: bytes) -> bool:
    """The regular file at `path` has exactly `data` (a re-export leaves most files as they were:
    comparing is much cheaper than writing and syncing them again)."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size != len(data):
            return False
        with open(path, "rb") as fh:
            return fh.read(len(data) + 1) == data
    except OSError:
        return False


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_text_atomic(path: Path, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_cache_atomic(path: Path, text: str) -> None:
    """A cache entry: renamed into place whole, but not fsynced. After a crash it may be empty or
    cut short, which every cache of loa reads as a miss; an fsync per entry (some 600 when the
    whole province is re-planned) cost more than the entries save."""
    write_chunks_atomic(path, (text.encode("utf-8"),), durable=False)


def cache_root() -> Path | None:
    """Where loa keeps what it can compute again (audio probes, solved units): $LOA_CACHE_DIR,
    else $XDG_CACHE_HOME/loa or ~/.cache/loa; None when LOA_CACHE_DIR=off."""
    configured = os.environ.get("LOA_CACHE_DIR")
    if configured == "off":
        return None
    return Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "loa"


class UnsafeFile(OSError):
    """A path that is not a regular file of a sane size (FIFO, device, folder, huge file)."""


def read_regular(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; UnsafeFile or OSError otherwise.

    Opened without blocking (a FIFO would hang a plain open) and checked on the open descriptor,
    so a path swapped between a check and the read cannot slip through.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode)
                    else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "a socket")
            raise UnsafeFile(errno.EINVAL, f"not a regular file: it is {kind}")
        if st.st_size > max_bytes:
            raise UnsafeFile(errno.EFBIG, f"larger than {max_bytes // 2**20} MB ({st.st_size:,} bytes)")
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while chunk := os.read(fd, min(1 << 20, max_bytes + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:  # grew while being read
                raise UnsafeFile(errno.EFBIG, f"larger than {max_bytes // 2**20} MB")
        return b"".join(chunks)
    finally:
        os.close(fd)


def is_inside(path: Path, root: Path) -> bool:
    """`path`, every symbolic link resolved (a loop resolves to itself), lies under `root`."""
    real = os.path.realpath(path)
    base = os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rmtree(path: Path) -> None:
    """Remove a tree even where a folder was made read-only (its entries need a writable parent)."""
    def retry(func, name, _exc):
        try:
            os.chmod(os.path.dirname(name), 0o755)
            func(name)
        except OSError:
            pass

    if os.path.lexists(path):
        shutil.rmtree(path, onerror=retry)


def write_all_or_nothing(files: Mapping[Path, bytes]) -> list[Path]:
    """Write several files so that either all replace their targets or none does.

    Every file goes to a temp file next to its target first (the step that fails on a full disk
    or a read-only folder); only when all are written are they renamed into place.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o644)
    except BaseException:
        for tmp, _ in staged:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        raise
    for tmp, path in staged:
        os.replace(tmp, path)
    return [path for _, path in staged]


# --------------------------------------------------------------------------- locks


_HELD_LOCKS: set[int] = set()  # descriptors of the locks this process holds


def _drop_locks_in_child() -> None:
    """A forked child (a solver or export worker, a file writer) does not keep its parent's
    locks: a lock is shared by every copy of its descriptor, so a child left running a moment
    after its run was killed would keep the folder locked."""
    for fd in _HELD_LOCKS:
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD_LOCKS.clear()


os.register_at_fork(after_in_child=_drop_locks_in_child)


def release_lock(fd: int) -> None:
    _HELD_LOCKS.discard(fd)
    os.close(fd)  # releases the flock


def take_lock(folder: Path, busy: str, wait_s: float = 0.0) -> int:
    """The open descriptor of `folder/.loa.lock`, locked (fcntl.flock, released when closed).

    Waits up to `wait_s` seconds for another holder; then BusyError(`busy`). The lock file stays
    empty and is never an output.
    """
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise ExportError(f"{path}: cannot create the lock file ({_why(exc)})") from None
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _HELD_LOCKS.add(fd)
            return fd
        except OSError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise BusyError(busy) from None
            time.sleep(0.05)


@contextmanager
def folder_lock(folder: Path, busy: str, wait_s: float = 0.0) -> Iterator[None]:
    """Hold `folder/.loa.lock` (see `take_lock`) for the body of a `with`."""
    fd = take_lock(folder, busy, wait_s)
    try:
        yield
    finally:
        release_lock(fd)


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back by the kernel for the body, for code that forks: a Python
    signal handler that runs inside a fork hook (the logging module has one) cannot raise, so the
    stop would be lost. Held, the signal arrives after the body, where it raises as usual."""
    stops = {signal.SIGINT, signal.SIGTERM}
    held = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


@contextmanager
def stops_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait for the end of the body, then act as they would have: for a step
    whose result the caller needs in order to undo it (a bulletin added to the dataset, taken out
    again if the run stops). Off the main thread, where Python handles no signal, it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {signum: signal.signal(signum, lambda n, _frame: pending.append(n))
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if pending:
            signal.raise_signal(pending[0])


# --------------------------------------------------------------------------- runs


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def clean_stale_tmp(folder: Path) -> int:
    """Remove the temp files killed writers left under `folder`; the count removed."""
    removed = 0
    if not folder.is_dir() or folder.is_symlink():
        return 0
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            if _TMP_RE.match(name):
                try:
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
                except OSError:
                    pass
    return removed


class Behind:
    """`fn(*args)` in a forked process while this one goes on (the second core works while the
    first does); `result()` waits and returns its value, or raises what it raised (a LoaError;
    anything else as a BugError saying what it was `doing`); `stop()` kills it. It dies with its
    parent, so a killed run leaves nothing behind. `stopped` is raised if it died without a word."""

    def __init__(self, doing: str, stopped: LoaError, fn: Callable, *args):
        self._stopped = stopped
        context = get_context("fork")
        self._receive, self._send = context.Pipe(duplex=False)
        self._proc = context.Process(target=_run_behind, args=(doing, fn, args, self._send, os.getpid()),
                                     daemon=True)

    def start(self) -> Behind:
        """Fork it. A stop (Ctrl-C, SIGTERM) held during the fork arrives as this returns: keep
        the Behind where the stop's clean-up finds it before starting it."""
        with signals_held():
            self._proc.start()
            self._send.close()
        return self

    def result(self):
        try:
            kind, value = self._receive.recv()
        except EOFError:
            kind, value = "raise", self._stopped
        finally:
            self._proc.join()
            self._receive.close()
        if kind == "raise":
            raise value
        return value

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def is_alive(self) -> bool:
        return self._proc.is_alive()

    def stop(self) -> None:
        if self._proc.pid is not None:
            self._proc.kill()
            self._proc.join()
        else:
            self._send.close()
        self._receive.close()


def _run_behind(doing: str, fn: Callable, args: tuple, send, parent: int) -> None:
    _die_with_parent(parent)
    try:
        said = ("value", fn(*args))
    except LoaError as exc:
        said = ("raise", exc)
    except BaseException as exc:  # noqa: BLE001 - sent to the parent, which raises it
        said = ("raise", BugError(f"{doing} failed ({type(exc).__name__}: {exc})"))
    send.send(said)
    send.close()


def _write_staged(staged: Path, make: Callable[[], Iterable[bytes]], shown: str) -> None:
    try:
        write_chunks_atomic(staged, make())
    except OSError as exc:
        raise ExportError(f"{shown}: cannot write ({_why(exc)}); nothing was written") from None


def _link_tree(src: str, dst: str) -> None:
    """Hard-link the files under folder `src` into the existing folder `dst` (copies where links
    are not supported), making its subfolders. One directory scan per folder and no stat per file:
    a province's week holds 3,000 files, re-linked by every re-plan."""
    if not os.access(src, os.W_OK):
        raise ExportError(f"{src}: folder is not writable; nothing was written")
    with os.scandir(src) as entries:
        for entry in entries:
            target = os.path.join(dst, entry.name)
            if entry.is_dir(follow_symlinks=False):
                os.mkdir(target)
                _link_tree(entry.path, target)
            elif entry.is_symlink() and entry.is_dir():
                raise ExportError(f"{entry.path}: a symbolic link inside an output folder; remove it "
                                  "(loa writes only real files under --out)")
            elif _TMP_RE.match(entry.name):
                continue  # a killed writer's leftover: not carried over
            elif not entry.is_file(follow_symlinks=False):
                raise ExportError(f"{entry.path}: not a regular file inside an output folder; remove it")
            else:
                try:
                    os.link(entry.path, target)
                except OSError:
                    shutil.copy2(entry.path, target)


def _die_with_parent(parent: int) -> None:
    """Linux: this process gets SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the parent's pipe closing is all there is
        pass
    if os.getppid() != parent:  # the parent died before the call above
        os._exit(1)


def _roll_forward(out: Path, stage: Path, entries: list[dict]) -> None:
    """Switch each staged folder in (the live one moves to `stage/old`); safe to repeat after a
    crash at any point, since a folder already switched is recognised by its inode."""
    for entry in entries:
        folder = entry["folder"]
        live, new, old = out / folder, stage / "new" / folder, stage / "old" / folder
        if os.path.lexists(live) and os.lstat(live).st_ino == entry["ino"]:
            continue  # already switched
        if not os.path.lexists(new) or os.lstat(new).st_ino != entry["ino"]:
            raise ExportError(f"{live}: the staged copy of an interrupted run is missing ({new})")
        old.parent.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(live):
            if os.path.lexists(old):
                _rmtree(old)
            os.rename(live, old)
        live.parent.mkdir(parents=True, exist_ok=True)
        os.rename(new, live)
        _fsync_dir(live.parent)
        _fsync_dir(old.parent)


def recover(out: Path) -> list[str]:
    """Finish or drop what interrupted runs left in `out` (call it holding the lock).

    A staging folder with a journal is rolled forward (the run had finished writing); one without
    is removed (the run had not): either way no week stays half switched. Returns what was done.
    """
    done: list[str] = []
    root = Path(out) / STAGING_NAME
    if not root.is_dir():
        return done
    for stage in sorted(root.iterdir()):
        journal = stage / JOURNAL_NAME
        entries = None
        if journal.is_file():
            try:
                entries = json.loads(journal.read_text(encoding="utf-8"))["folders"]
            except (OSError, ValueError, KeyError, TypeError):
                entries = None
        if entries:
            try:
                _roll_forward(Path(out), stage, entries)
            except OSError as exc:
                raise ExportError(f"{out}: an interrupted run could not be completed ({_why(exc)}); "
                                  f"its files are in {stage}") from None
            done.append(f"completed the interrupted run {stage.name}")
        else:
            done.append(f"removed the unfinished run {stage.name}")
        _rmtree(stage)
    return done


class OutputRun:
    """One run's outputs under `out`, written as a transaction over the folders it owns.

    Use as a context manager: entering takes the lock and recovers interrupted runs; `write`
    stages files; `commit` switches the owned folders in; leaving without a commit drops every
    staged file, so the previous outputs stay byte for byte as they were.
    """

    def __init__(self, out: Path, folders: Iterable[str]):
        self.out = Path(out)
        self.folders = tuple(sorted({Path(f).as_posix() for f in folders}))
        self.stage: Path | None = None
        self.cloned: list[str] = []
        self.recovered: list[str] = []
        self._lock_fd: int | None = None
        self._committed = False
        self._created: list[Path] = []
        self._behind: list[Behind] = []  # files written by `write_chunks_behind`

    @property
    def committed(self) -> bool:
        """The run reached its switch: its outputs are in, or the next start puts them in."""
        return self._committed

    # ---- entering: the folder, the lock, recovery

    def __enter__(self) -> OutputRun:
        self._open_root()
        self._lock()
        try:
            self.recovered = recover(self.out)
            for folder in self.folders:
                clean_stale_tmp(self.out / folder)
            staging = self.out / STAGING_NAME
            staging.mkdir(exist_ok=True)
            self.stage = Path(tempfile.mkdtemp(prefix="run-", dir=staging))
        except OSError as exc:
            self._unlock()
            raise ExportError(f"{self.out}: cannot prepare the output folder ({_why(exc)})") from None
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            for writer in self._behind:  # a failed run: its writers stop before their files go
                writer.stop()
            self._behind = []
            if not self._committed and self.stage is not None:
                _rmtree(self.stage)
            try:
                os.rmdir(self.out / STAGING_NAME)  # only when empty: a kept stage is finished next time
            except OSError:
                pass
        finally:
            self._unlock()
        if not self._committed:  # a failed run into a new folder leaves no folder behind
            try:
                if self._created:
                    os.unlink(self.out / LOCK_NAME)
                for folder in self._created:
                    os.rmdir(folder)
            except OSError:
                pass

    def own(self, folders: Iterable[str]) -> None:
        """Add folders to the run once it is open (a command that learns its week from a plan
        file takes the lock and recovers before reading that file)."""
        added = sorted({Path(f).as_posix() for f in folders} - set(self.folders))
        self._check_folders(added)
        for folder in added:
            clean_stale_tmp(self.out / folder)
        self.folders = tuple(sorted((*self.folders, *added)))

    def _open_root(self) -> None:
        out = self.out
        if os.path.lexists(out) and not out.is_dir():
            raise DataError(Problem("--out", None, "out", str(out), "a folder (this path exists and is not one)"))
        self._created = []  # folders this run made, removed again when it fails
        for folder in (out, *out.parents):
            if os.path.lexists(folder):
                break
            self._created.append(folder)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(Problem("--out", None, "out", str(out), f"a folder that can be created ({_why(exc)})"))
        self._check_folders(self.folders)

    def _check_folders(self, folders: Iterable[str]) -> None:
        for folder in folders:
            if Path(folder).is_absolute() or ".." in Path(folder).parts:
                raise ExportError(f"{folder}: an output folder must lie under --out")
            if not is_inside(self.out / folder, self.out):
                raise ExportError(f"{self.out / folder}: leads outside --out {self.out} through a symbolic link; "
                                  "loa writes only inside --out (remove the link)")

    def _lock(self) -> None:
        self._lock_fd = take_lock(self.out, f"{self.out}: another loa run is writing to this folder; wait for it "
                                            "to finish or choose another --out (nothing was written)", LOCK_GRACE_S)

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            release_lock(self._lock_fd)
            self._lock_fd = None

    # ---- staging

    def _owner(self, path: Path) -> tuple[str, Path]:
        """(owned folder, path relative to --out) of an output path, or ExportError. `abspath`
        folds every `..`, so a path that leaves --out does not start with it."""
        full, base = os.path.abspath(path), os.path.abspath(self.out).rstrip(os.sep) + os.sep
        if not full.startswith(base):
            raise ExportError(f"{path}: outside --out {self.out}; nothing was written")
        rel = full[len(base):]
        for folder in self.folders:
            if rel.startswith(folder + "/"):
                return folder, Path(rel)
        raise ExportError(f"{path}: not in an output folder of this run ({', '.join(self.folders)})")

    def _clone(self, folder: str) -> None:
        """Hard-link copy of the live folder into the staging folder; refuses links and
        unwritable folders (a rename needs them writable, and a link could lead outside)."""
        assert self.stage is not None
        live, new = self.out / folder, self.stage / "new" / folder
        new.mkdir(parents=True)
        self.cloned.append(folder)
        if not os.path.lexists(live):
            return
        if live.is_symlink() or not live.is_dir():
            raise ExportError(f"{live}: expected a folder written by loa (it is a link or a file)")

        try:
            _link_tree(str(live), str(new))
        except OSError as exc:
            raise ExportError(f"{live}: cannot read the previous outputs ({_why(exc)}); nothing was written") from None

    def staged_path(self, path: Path) -> Path:
        """Where an output path is written during the run (its folder cloned on first use)."""
        assert self.stage is not None, "OutputRun used outside its `with` block"
        folder, rel = self._owner(path)
        if folder not in self.cloned:
            self._clone(folder)
        staged = self.stage / "new" / rel
        if not is_inside(staged.parent, self.stage) and staged.parent.exists():
            raise ExportError(f"{path}: leads outside --out {self.out}; nothing was written")
        return staged

    def write(self, path: Path, data: bytes) -> None:
        self.write_chunks(path, (data,))

    def write_chunks(self, path: Path, chunks: Iterable[bytes]) -> None:
        """Stage a file made piece by piece (a nation's plan.json is never held whole)."""
        staged = self.staged_path(path)
        try:
            write_chunks_atomic(staged, chunks)
        except OSError as exc:
            raise ExportError(f"{path}: cannot write ({_why(exc)}); nothing was written") from None

    def write_chunks_behind(self, path: Path, make: Callable[[], Iterable[bytes]]) -> None:
        """`write_chunks(path, make())` in a forked process while this one goes on: a province's
        plan.json (a third of a second of encoding, then a 5 MB fsync) is written on the other
        core while the exports are made. `commit` waits for it; if it fails, the run fails."""
        stopped = ExportError("a file of this run could not be written (its writer was stopped); nothing was written")
        writer = Behind(f"writing {path}", stopped, _write_staged, self.staged_path(path), make, str(path))
        self._behind.append(writer)  # before it starts: a stop as it starts finds it in `__exit__`
        writer.start()

    def _join_behind(self) -> None:
        behind, self._behind = self._behind, []
        failure = None
        for writer in behind:
            try:
                writer.result()
            except LoaError as exc:
                failure = failure or exc
        if failure:
            raise failure

    def write_many(self, files: Mapping[Path, bytes]) -> None:
        """Stage many files: each folder's place checked once and the folder made, then each
        folder's files written by one of a few threads. (A nation's export stages 150,000 files;
        a check and a thread task per file were most of its main process's time.)"""
        by_folder: dict[Path, list[tuple[Path, bytes]]] = {}
        for path, data in files.items():
            by_folder.setdefault(Path(path).parent, []).append((Path(path), data))
        batches = []
        for entries in by_folder.values():
            staged_folder = self.staged_path(entries[0][0]).parent
            batches.append([(staged_folder / path.name if path.name not in ("", ".", "..") else self.staged_path(path),
                             data) for path, data in entries])
        for folder in sorted({path.parent for batch in batches for path, _data in batch}):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ExportError(f"{folder}: cannot create folder ({_why(exc)}); nothing was written") from None

        def write(batch: list[tuple[Path, bytes]]) -> None:
            for path, data in batch:
                try:
                    if _holds(path, data):
                        continue  # the clone of the live file already has these bytes
                    write_bytes_atomic(path, data)
                except OSError as exc:
                    raise ExportError(f"{path}: cannot write ({_why(exc)}); nothing was written") from None

        with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
            list(pool.map(write, batches))

    # ---- the switch

    def commit(self) -> None:
        """Switch every staged folder in. Before the journal is durable nothing live has
        changed; after it, the switch completes now or at the next start."""
        assert self.stage is not None
        self._join_behind()
        entries = []
        for folder in self.cloned:
            new, live = self.stage / "new" / folder, self.out / folder
            for parent in (live.parent, live):
                if parent.exists() and not os.access(parent, os.W_OK):
                    raise ExportError(f"{parent}: folder is not writable; nothing was written")
            for dirpath, _dirs, _files in os.walk(new):
                _fsync_dir(Path(dirpath))
            entries.append({"folder": folder, "ino": os.lstat(new).st_ino})
        if not entries:
            self._committed = True
            _rmtree(self.stage)
            return
        journal = self.stage / JOURNAL_NAME
        try:
            write_text_atomic(journal, json.dumps({"folders": entries}))
            _fsync_dir(self.stage)
        except OSError as exc:
            raise ExportError(f"{self.out}: cannot finish the run ({_why(exc)}); nothing was written") from None
        self._committed = True  # from here on the stage belongs to the switch (or to the next start)
        try:
            _roll_forward(self.out, self.stage, entries)
        except OSError as exc:
            self._undo(entries, exc)
        _rmtree(self.stage)

    def _undo(self, entries: list[dict], exc: OSError) -> None:
        """A rename failed mid-switch: put back the folders already switched, then report."""
        assert self.stage is not None
        try:
            for entry in reversed(entries):
                folder = entry["folder"]
                live, new, old = self.out / folder, self.stage / "new" / folder, self.stage / "old" / folder
                if os.path.lexists(live) and os.lstat(live).st_ino == entry["ino"]:
                    os.rename(live, new)
                if os.path.lexists(old) and not os.path.lexists(live):
                    os.rename(old, live)
            os.unlink(self.stage / JOURNAL_NAME)
            self._committed = False  # undone: the stage is dropped on leaving, as after any failure
        except OSError:  # the journal stays: the next start completes the switch
            raise ExportError(f"{self.out}: the outputs could not be switched ({_why(exc)}); the next loa run "
                              "on this folder completes the switch") from None
        raise ExportError(f"{self.out}: the outputs could not be switched ({_why(exc)}); nothing was changed") \
            from None
