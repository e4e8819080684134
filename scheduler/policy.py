"""The tunable rules and weights, merged in one place.

`policy.toml` holds base values (`[policy]`, `[weights]`) and overrides per site kind
(`[kind.urban]`), per area (`[area.<id>]`, applies to everything under the area) and per site
(`[site.<id>]`). `--set section.key=value` on the command line changes base values.
`resolve_site_policies()` merges them for every site once (base < kind < areas, root first <
site) when a dataset is loaded or given another policy (`with_policy`); `site_policy()` looks
the result up.

Only `load_policy` touches files; everything else is pure.
"""
from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping

from .domain import DAY_NAMES, SITE_KINDS, Dataset, Policy, Site, SitePolicy, Weights, Window
from .errors import DataError, Problem
from .fsutil import read_regular
from .io.schema import parse_time
from .io.tomlfile import toml_error_line
from .limits import MAX_DATASET_FILE_BYTES, MAX_TIME_BUDGET, MAX_WEIGHT, single_line

# Every key `[policy]` may hold, with its default. A policy.toml may leave any out.
POLICY_DEFAULTS: dict[str, Any] = {
    "slot_minutes": 5,
    "session_gap_minutes": 10,
    "max_sessions_per_day": 3,
    "max_session_minutes": 45,
    "daily_cap_minutes": 150,
    "segment_min_gap_minutes": 720,
    "broadcast_days": list(DAY_NAMES),
    "quiet_hours": ["21:00-05:00"],
    "time_budget": 5.0,
    "windows": {"morning": "05:00-07:30", "noon": "11:00-13:00", "evening": "17:00-20:00"},
    "relay_minimums": {},  # relay id or source -> days a week it must air at least (see rules.relay_minimums)
    "emergency_in_quiet_hours": False,  # `loa bulletin --level emergency` may air in quiet hours
}
WEIGHT_DEFAULTS: dict[str, float] = {
    "reach": 1.0,
    "spread_days": 200.0,
    "spread_dayparts": 100.0,
    "variety": 300.0,
    "delay": 5.0,
    "optional_relay": 0.1,
    "stability": 1000.0,
}
# (lowest allowed, highest allowed) for numeric keys
_INT_RANGES = {
    "slot_minutes": (1, 60),
    "session_gap_minutes": (1, 1440),  # back-to-back items (gap 0) are always one session
    "max_sessions_per_day": (1, 48),
    "max_session_minutes": (1, 1440),
    "daily_cap_minutes": (1, 1440),
    "segment_min_gap_minutes": (0, 7 * 1440),
}
_OVERRIDE_SECTIONS = ("kind", "group", "area", "site")


# --------------------------------------------------------------------------- parsing helpers


def parse_range(text: str, wrap: bool) -> tuple[int, int]:
    """'HH:MM-HH:MM' -> (start, end) minutes. Without `wrap` the end must come after the start."""
    parts = str(text).strip().split("-")
    if len(parts) != 2:
        raise ValueError(f"not HH:MM-HH:MM: {text!r}")
    start, end = parse_time(parts[0], allow_24=False), parse_time(parts[1])
    if start == end or (not wrap and end < start):
        raise ValueError(f"empty or reversed range: {text!r}")
    return start, end


def _check_value(key: str, value: Any) -> str | None:
    """None when `value` is right for policy key `key`, else what is expected."""
    if key in _INT_RANGES:
        lo, hi = _INT_RANGES[key]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            return f"an integer {lo}..{hi}"
    elif key == "time_budget":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIME_BUDGET:
            return f"a number of seconds > 0 and at most {MAX_TIME_BUDGET:g}"
    elif key == "emergency_in_quiet_hours":
        if not isinstance(value, bool):
            return "true or false"
    elif key == "broadcast_days":
        if not isinstance(value, list) or not value or any(d not in DAY_NAMES for d in value):
            return f"a non-empty list of days from {', '.join(DAY_NAMES)}"
    elif key == "quiet_hours":
        if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
            return "a list of 'HH:MM-HH:MM' ranges (may wrap midnight)"
        for v in value:
            try:
                parse_range(v, wrap=True)
            except ValueError:
                return "a list of 'HH:MM-HH:MM' ranges within 00:00-24:00 (may wrap midnight)"
    elif key == "relay_minimums":
        if not isinstance(value, Mapping) or any(
                isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 49 for n in value.values()):
            return "a table of relay id or source = airings a week (0..7 days for one relay, up to 49 for a source)"
    elif key == "windows":
        if not isinstance(value, Mapping) or not value:
            return "a table of name = 'HH:MM-HH:MM'"
        spans = []
        for name, v in value.items():
            if not isinstance(name, str) or not name.strip() or not single_line(name) or len(name) > 40:
                return f"window names of 1..40 characters on one line (not {name!r})"
            try:
                spans.append((*parse_range(v, wrap=False), name))
            except (ValueError, TypeError):
                return f"window {name!r}: 'HH:MM-HH:MM' within 00:00-24:00, start before end"
        spans.sort()
        for (s1, e1, n1), (s2, _e2, n2) in zip(spans, spans[1:]):
            if s2 < e1:
                return f"windows that do not overlap ({n1!r} and {n2!r} do)"
    return None


def _check_weight(value: Any) -> str | None:
    """Weights are finite and at most MAX_WEIGHT: the objective's integer coefficients must fit in
    64 bits (see limits.py); NaN and infinity are refused, not just negative numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_WEIGHT:
        return f"a number 0..{MAX_WEIGHT:g}"
    return None


def check_tables(tree: Mapping[str, Any], file: str) -> list[Problem]:
    """Every problem of a parsed policy.toml tree: unknown keys, wrong types, bad ranges."""
    problems: list[Problem] = []

    def check_policy_table(table: Any, path: str, allow_weights: bool) -> None:
        if not isinstance(table, Mapping):
            problems.append(Problem(file, path, None, table, "a table"))
            return
        for key, value in table.items():
            kpath = f"{path}.{key}"
            if key == "weights" and allow_weights:
                check_weights_table(value, kpath)
            elif key not in POLICY_DEFAULTS:
                known = sorted(POLICY_DEFAULTS) + (["weights"] if allow_weights else [])
                problems.append(Problem(file, kpath, key, value, f"one of: {', '.join(known)}"))
            else:
                expected = _check_value(key, value)
                if expected:
                    problems.append(Problem(file, kpath, key, value, expected))

    def check_weights_table(table: Any, path: str) -> None:
        if not isinstance(table, Mapping):
            problems.append(Problem(file, path, None, table, "a table of weights"))
            return
        for key, value in table.items():
            if key not in WEIGHT_DEFAULTS:
                problems.append(
                    Problem(file, f"{path}.{key}", key, value, f"one of: {', '.join(WEIGHT_DEFAULTS)}")
                )
            elif (expected := _check_weight(value)) is not None:
                problems.append(Problem(file, f"{path}.{key}", key, value, expected))

    for section, value in tree.items():
        if section == "policy":
            check_policy_table(value, "policy", allow_weights=False)
        elif section == "weights":
            check_weights_table(value, "weights")
        elif section in _OVERRIDE_SECTIONS:
            if not isinstance(value, Mapping):
                problems.append(Problem(file, section, None, value, "a table of overrides"))
                continue
            for ident, table in value.items():
                if section == "kind" and ident not in SITE_KINDS:
                    problems.append(
                        Problem(file, f"kind.{ident}", "kind", ident, f"one of: {', '.join(SITE_KINDS)}")
                    )
                check_policy_table(table, f"{section}.{ident}", allow_weights=True)
        else:
            problems.append(
                Problem(file, section, None, None,
                        "only [policy], [weights], [kind.*], [group.*], [area.*], [site.*] tables")
            )
    return problems


def policy_from_tree(tree: Mapping[str, Any], source: str = "policy.toml") -> Policy:
    """Build a Policy from a parsed TOML tree (raises DataError listing every problem)."""
    problems = check_tables(tree, source)
    if problems:
        raise DataError(problems)
    base_policy = copy.deepcopy(POLICY_DEFAULTS)
    base_policy.update(copy.deepcopy(dict(tree.get("policy", {}))))
    weights = dict(WEIGHT_DEFAULTS)
    weights.update(tree.get("weights", {}))
    overrides: dict[str, dict[str, Any]] = {}
    for section in _OVERRIDE_SECTIONS:
        for ident, table in tree.get(section, {}).items():
            overrides[f"{section}:{ident}"] = copy.deepcopy(dict(table))
    return Policy(base={"policy": base_policy, "weights": weights}, overrides=overrides, source=source)


def load_policy(path: str | Path) -> Policy:
    """Read a policy.toml into a Policy; DataError names every unknown key or bad value."""
    path = Path(path)
    name = path.name
    try:
        raw = read_regular(path, MAX_DATASET_FILE_BYTES)
    except OSError as exc:
        raise DataError(Problem(name, None, None, str(path), f"a readable regular file of at most "
                                f"{MAX_DATASET_FILE_BYTES // 2**20} MB ({exc.strerror or exc})"))
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise DataError(Problem(name, None, None, None, "a non-empty TOML file"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(Problem(name, None, None, None, f"UTF-8 text (byte {exc.start} is not)"))
    try:
        tree = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(Problem(name, toml_error_line(exc), None, None, f"valid TOML ({exc})"))
    return policy_from_tree(tree, source=name)


# --------------------------------------------------------------------------- --set


def _parse_setting_value(key: str, text: str, current: Any) -> Any:
    text = text.strip()
    if key in ("broadcast_days", "quiet_hours"):
        return [p.strip() for p in re.split(r"[;,]", text) if p.strip()]
    if isinstance(current, bool):
        if text.lower() not in ("true", "false", "yes", "no"):
            raise ValueError
        return text.lower() in ("true", "yes")
    if isinstance(current, int) and key != "time_budget":
        return int(text)
    if isinstance(current, (int, float)):
        return float(text)
    return text


def _entry_int(text: str) -> int | str:
    """A table entry's number; what is not a whole number is left for _check_value to refuse."""
    return int(text) if text.lstrip("-").isdigit() else text


# policy keys holding a table, set one entry at a time by `--set policy.<key>.<name>=value`
_TABLES = {"windows": str, "relay_minimums": _entry_int}


def apply_settings(policy: Policy, settings: list[str]) -> Policy:
    """A new Policy with each 'section.key=value' applied to the base values.

    `policy.max_session_minutes=30`, `weights.spread_days=2`, `policy.quiet_hours=21:00-05:30`
    (lists: `,` or `;` separated), `policy.windows.morning=05:30-07:00` (one window; an empty
    value removes it), `policy.relay_minimums.VTV1=3`. Values take the type of the key they replace.
    """
    base = copy.deepcopy({k: dict(v) for k, v in policy.base.items()})
    base.setdefault("policy", copy.deepcopy(POLICY_DEFAULTS))
    base.setdefault("weights", dict(WEIGHT_DEFAULTS))
    problems: list[Problem] = []
    known = [f"policy.{k}" for k in POLICY_DEFAULTS if k not in _TABLES]
    known += ["policy.windows.<name>", "policy.relay_minimums.<relay or source>"]
    known += [f"weights.{k}" for k in WEIGHT_DEFAULTS]
    for setting in settings:
        key_path, eq, text = setting.partition("=")
        key_path = key_path.strip()
        if not eq:
            problems.append(Problem("--set", None, key_path, setting, "section.key=value, e.g. policy.slot_minutes=10"))
            continue
        parts = key_path.split(".")
        if parts[0] == "policy" and len(parts) == 3 and parts[1] in _TABLES and parts[2]:
            table = dict(base["policy"].get(parts[1], {}))
            entry = _TABLES[parts[1]](text.strip()) if text.strip() else None
            if entry is None:
                table.pop(parts[2], None)  # an empty value removes the entry
            else:
                table[parts[2]] = entry
            expected = _check_value(parts[1], table)
            if expected:
                problems.append(Problem("--set", None, key_path, text, expected))
            else:
                base["policy"][parts[1]] = table
            continue
        if len(parts) != 2 or parts[0] not in ("policy", "weights") or (
            parts[1] not in (POLICY_DEFAULTS if parts[0] == "policy" else WEIGHT_DEFAULTS)
        ) or parts[1] in _TABLES:
            problems.append(Problem("--set", None, key_path, setting, f"one of: {', '.join(known)}"))
            continue
        section, key = parts
        current = base[section].get(key, (POLICY_DEFAULTS if section == "policy" else WEIGHT_DEFAULTS)[key])
        try:
            value = _parse_setting_value(key, text, current)
        except ValueError:
            value = None
            expected = f"a value of type {type(current).__name__}"
        else:
            expected = _check_value(key, value) if section == "policy" else _check_weight(value)
        if expected:
            problems.append(Problem("--set", None, key_path, text, expected))
        else:
            base[section][key] = value
    if problems:
        raise DataError(problems)
    return Policy(base=base, overrides=copy.deepcopy(dict(policy.overrides)), source=policy.source)


# --------------------------------------------------------------------------- merging

def merged_values(dataset: Dataset, site: Site) -> tuple[dict[str, Any], dict[str, Any]]:
    """The raw merged (policy, weights) dicts in force at `site`, before parsing."""
    policy = dataset.policy
    values = copy.deepcopy(POLICY_DEFAULTS)
    values.update(copy.deepcopy(dict(policy.base.get("policy", {}))))
    weights = dict(WEIGHT_DEFAULTS)
    weights.update(policy.base.get("weights", {}))
    for key in _override_keys(dataset, site):
        table = policy.overrides[key]
        for k, v in table.items():
            if k == "weights":
                weights.update(v)
            elif k == "relay_minimums":  # a minimum per relay or source: set or lift one at a time
                values[k] = {**values[k], **v}
            else:
                values[k] = copy.deepcopy(v)  # windows replaces the whole table
    return values, weights


def _override_keys(dataset: Dataset, site: Site) -> tuple[str, ...]:
    """The overrides that apply at `site`, in the order they are merged (kind, areas root first
    with a group just before the area naming it, site); also the key under which sites share one
    resolved policy, so a [group.*] table never leaks to a site outside the group."""
    keys = [f"kind:{site.kind}"]
    for a in reversed(dataset.ancestors(site.area_id)):
        if a.group:  # a group sits right above the area that names it
            keys.append(f"group:{a.group}")
        keys.append(f"area:{a.id}")
    keys.append(f"site:{site.id}")
    return tuple(k for k in keys if dataset.policy.overrides.get(k))


def _resolve(dataset: Dataset, site: Site) -> SitePolicy:
    """Merge and parse the rules of one site (the work `site_policies` keeps from repeating)."""
    values, weights = merged_values(dataset, site)
    windows = sorted(
        (Window(name, *parse_range(text, wrap=False)) for name, text in values["windows"].items()),
        key=lambda w: (w.start_min, w.end_min, w.name),
    )
    return SitePolicy(
        windows=tuple(windows),
        broadcast_days=tuple(sorted({DAY_NAMES.index(d) for d in values["broadcast_days"]})),
        quiet_hours=tuple(parse_range(q, wrap=True) for q in values["quiet_hours"]),
        slot_minutes=int(values["slot_minutes"]),
        session_gap_minutes=int(values["session_gap_minutes"]),
        max_sessions_per_day=int(values["max_sessions_per_day"]),
        max_session_minutes=int(values["max_session_minutes"]),
        daily_cap_minutes=int(values["daily_cap_minutes"]),
        segment_min_gap_minutes=int(values["segment_min_gap_minutes"]),
        relay_minimums=tuple(sorted((str(k), int(n)) for k, n in values["relay_minimums"].items() if n)),
        emergency_in_quiet_hours=bool(values["emergency_in_quiet_hours"]),
        weights=Weights(**{k: float(v) for k, v in weights.items()}),
        time_budget=float(values["time_budget"]),
    )


class SitePolicies(dict):
    """Site id -> SitePolicy, remembering what it was resolved from, so that a dataset copied
    with other rules by `dataclasses.replace` (not `with_policy`) is noticed, never read stale."""

    def __init__(self, policies: Mapping[str, SitePolicy], basis: tuple):
        super().__init__(policies)
        self.basis = basis


def _basis(dataset: Dataset) -> tuple:
    return dataset.policy, dataset.areas, dataset.sites, dataset.groups


def resolve_site_policies(dataset: Dataset) -> dict[str, SitePolicy]:
    """Every site's rules, merged once; `load_dataset` and `with_policy` store them in the dataset."""
    # sites under the same overrides share one SitePolicy: merging is then linear in the distinct
    # override chains (a handful), not a deep copy per site (it dominated loading 100k sites)
    shared: dict[tuple[str, ...], SitePolicy] = {}
    policies = {}
    for s in dataset.sites:
        keys = _override_keys(dataset, s)
        if keys not in shared:
            shared[keys] = _resolve(dataset, s)
        policies[s.id] = shared[keys]
    return SitePolicies(policies, _basis(dataset))


def with_policy(dataset: Dataset, policy: Policy) -> Dataset:
    """The dataset under another policy (`--policy`, `--set`), its per-site rules resolved again."""
    changed = replace(dataset, policy=policy, site_policies={})
    return replace(changed, site_policies=resolve_site_policies(changed))


def site_policy(dataset: Dataset, site: Site) -> SitePolicy:
    """The rules in force at one site: base < kind:<kind> < area:<id> (root first; a group:<id>
    just before the area naming it) < site:<id>.

    A lookup in `dataset.site_policies`; merged on the spot when the dataset holds none for its
    current policy, areas and sites (a dataset built by hand, or copied with `replace`).
    """
    known = dataset.site_policies
    if isinstance(known, SitePolicies) and site.id in known and known.basis == _basis(dataset):
        return known[site.id]
    return _resolve(dataset, site)
