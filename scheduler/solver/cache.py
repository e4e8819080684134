"""Per-unit solution cache, keyed by a digest of the unit's problem.

The digest covers everything the model of a unit is built from (`build_model` reads only the
`UnitProblem`): the unit's sites and populations, week, rules, relays, segments, session
options with their bins and audience, and the per-minute audience shares, plus the solver's
settings and the source of the code that builds and solves it (so an upgrade of loa or OR-Tools
never reuses an old answer). Equal digests therefore mean equal models, and the solve is
deterministic (one worker, fixed seed, deterministic budget): a cached solution is exactly the
one a new solve would return, so a plan made from the cache is byte-identical.

Files live in `solutions/<2 hex>/<digest>.json` (and the index in `solutions/index/`) under the cache folder ($LOA_CACHE_DIR, else
$XDG_CACHE_HOME/loa or ~/.cache/loa; `LOA_CACHE_DIR=off` disables it), written atomically.
An unreadable or malformed entry is a miss, never an error.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from array import array
from functools import lru_cache
from pathlib import Path

from ..fsutil import cache_root, write_cache_atomic
from .problem import UnitProblem

# the modules whose code decides a unit's solution, besides the problem's content
_CODE = ("solver/problem.py", "solver/model.py", "solver/objective.py", "solver/explain.py", "solver/run.py",
         "solver/repair.py", "solver/cache.py", "rules.py", "audience.py", "domain.py")


@lru_cache(maxsize=1)
def code_version() -> str:
    """sha256 of the solver's source and the OR-Tools version."""
    from ortools import __version__ as ortools_version

    base = Path(__file__).resolve().parent.parent
    h = hashlib.sha256(f"ortools {ortools_version}\n".encode())
    for name in _CODE:
        h.update(name.encode() + b"\0" + (base / name).read_bytes())
    return h.hexdigest()


def problem_digest(problem: UnitProblem, *settings: object) -> str:
    """Content digest of one unit's problem and the solver `settings` it is solved with."""
    h = hashlib.sha256(code_version().encode())
    p = problem
    h.update(repr((settings, p.unit, p.week, p.days, p.policy, p.broadcast_days, sorted(p.relays.items()),
                   sorted(p.segments.items()), sorted(p.segment_days.items()), p.options,
                   sorted(p.requirements.items()), p.notes, sorted(p.relay_minimums.items()), p.pinned,
                   sorted(p.plays_kept.items()), sorted(p.used.items()), sorted(p.needed.items()))).encode())
    for day in sorted(p.shares):
        h.update(array("d", p.shares[day]).tobytes())
    return h.hexdigest()


def input_key(fingerprint: str, policy: object, week: str, unit_id: str, site_ids: tuple[str, ...],
              *settings: object) -> str:
    """A shortcut to a unit's problem digest without building the problem: the dataset's
    fingerprint (sha256 of every dataset file and audio file), the policy with its --set
    overrides, the week, the unit, the solver settings, the code and the libraries that turn
    dates into audiences. Only for datasets loaded from files (with a fingerprint)."""
    import astral
    import holidays

    h = hashlib.sha256(code_version().encode())
    h.update(repr((fingerprint, policy, week, unit_id, site_ids, settings, holidays.__version__,
                   getattr(astral, "__version__", ""))).encode())
    return h.hexdigest()


def unit_inputs(dataset, week: str, unit, *settings: object) -> str:
    """Digest of everything a unit's week problem is built from, without building it: its sites
    and their policies, the audience inputs of each day, the relays, segments and blackouts that
    reach it, the week, the solver settings and the code. A re-plan keeps, untouched, every unit
    whose digest equals the one its plan recorded."""
    import astral
    import holidays

    from ..audience import site_inputs
    from ..policy import site_policy
    from ..rules import blackouts_over, relay_applies, segment_applies
    from ..domain import week_days

    days = week_days(week)
    sites = unit.sites
    h = hashlib.sha256(code_version().encode())
    h.update(repr((settings, week, unit, [site_policy(dataset, s) for s in sites],
                   [site_inputs(dataset, s, d) for s in sites for d in days],
                   [r for r in dataset.relays if any(relay_applies(dataset, s, r) for s in sites)],
                   [g for g in dataset.segments if all(segment_applies(dataset, s, g) for s in sites)],
                   blackouts_over(dataset, sites, datetime.combine(days[0], datetime.min.time()),
                                  datetime.combine(days[-1], datetime.max.time())),
                   holidays.__version__, getattr(astral, "__version__", ""))).encode())
    return h.hexdigest()


class SolutionCache:
    """JSON files of solved units under `root`, one per problem digest, and an index from
    `input_key` to problem digest, so an unchanged unit is found without building its problem.
    Solutions stay keyed by the problem digest: the index only says where to look."""

    def __init__(self, root: Path):
        self.root = Path(root)

    @classmethod
    def default(cls) -> SolutionCache | None:
        root = cache_root()
        return None if root is None else cls(root / "solutions")

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.json"

    def get(self, digest: str) -> dict | None:
        try:
            data = json.loads(self.path(digest).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("digest") == digest else None

    def put(self, digest: str, data: dict) -> None:
        try:
            write_cache_atomic(self.path(digest), json.dumps({"digest": digest, **data}, sort_keys=True))
        except OSError:
            pass  # a cache only: never fail a run because it cannot be written

    def digest_for(self, key: str) -> str | None:
        try:
            digest = (self.root / "index" / key[:2] / key).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return digest if len(digest) == 64 else None

    def remember(self, key: str, digest: str) -> None:
        try:
            write_cache_atomic(self.root / "index" / key[:2] / key, digest)
        except OSError:
            pass
