"""Exporters: calendars and manifests of a solved WeekPlan (they read the plan, never the solver).

Calendars come at two levels of detail (`ical.DETAILS`): one event per session for the operator
(`<site>.ics`, the default) or one per item for automation (`<site>.items.ics`); each level has
its own files, so each keeps its own SEQUENCE and CANCELLED history across re-exports.

`export_all(plan, out)` validates everything first (every audio file probed and checksummed,
every previous calendar readable), builds every file in memory, and writes them as one
transaction (`fsutil.OutputRun`): staged beside the live folders, then switched in. A bad input,
a full disk or a kill at any moment therefore leaves the previous outputs byte for byte as they were.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ..domain import WeekPlan, placements_by_site, week_days
from ..errors import ExportError
from ..fsutil import OutputRun, is_inside, signals_held
from . import audio, ical, manifest
from .levels import is_province, unit_title

__all__ = ["ExportSummary", "bundle_folder", "details_in", "export_all", "output_folders", "plan_outputs",
           "site_calendar_path", "district_calendar_path"]


def output_folders(week: str) -> tuple[str, str]:
    """The folders under --out that one week's run owns and switches as a whole."""
    return (f"calendars/{week}", f"audio_manifests/{week}")


def bundle_folder(week: str) -> str:
    """The folder under --out of one week's bundles (`loa export --bundle`), switched as a whole."""
    return f"bundles/{week}"


@dataclass(frozen=True)
class ExportSummary:
    calendars: int  # .ics files (site + district)
    events: int  # active VEVENTs in the site calendars (= placements)
    manifests: int  # site-days (each one .m3u8 + one .json)
    audio_files: int  # distinct audio files probed
    seconds: float
    paths: tuple[Path, ...] = field(default=(), repr=False)
    cancelled: int = 0  # STATUS:CANCELLED VEVENTs in the site calendars (dropped since the previous export)
    detail: str = "sessions"  # calendar level: sessions or items

    def event_counts(self) -> str:
        """'N events' or 'N events, M cancelled'."""
        return f"{self.events} events" + (f", {self.cancelled} cancelled" if self.cancelled else "")

    def __str__(self) -> str:
        return (f"{self.calendars} calendars ({self.event_counts()}), {self.manifests} day manifests, "
                f"{self.audio_files} audio files probed, {len(self.paths)} files in {self.seconds:.2f} s")

    def as_dict(self) -> dict:
        return {"calendars": self.calendars, "detail": self.detail, "events": self.events,
                "cancelled": self.cancelled, "manifests": self.manifests,
                "audio_files": self.audio_files, "files": len(self.paths), "seconds": round(self.seconds, 3)}


def _ics_name(stem: str, detail: str) -> str:
    return f"{stem}.ics" if ical.check_detail(detail) == "sessions" else f"{stem}.{detail}.ics"


def site_calendar_path(plan: WeekPlan, out: Path, site_id: str, detail: str = "sessions") -> Path:
    site = plan.site(site_id)
    return Path(out) / "calendars" / plan.week / site.district_id / _ics_name(site.id, detail)


def district_calendar_path(plan: WeekPlan, out: Path, district_id: str, detail: str = "sessions") -> Path:
    """The calendar of a reporting unit (a district or a group); sites that report straight to
    the province have none: it would only repeat their own calendars."""
    return Path(out) / "calendars" / plan.week / _ics_name(district_id, detail)


def _check_plan(plan: WeekPlan) -> None:
    sites = {s.id for s in plan.sites}
    items = {(i.kind, i.id): i for i in plan.items}
    problems = []
    for p in plan.placements:
        if p.site_id not in sites:
            problems.append(f"placement at unknown site {p.site_id!r}")
        item = items.get((p.kind, p.item_id))
        if item is None:
            problems.append(f"placement of unknown {p.kind} {p.item_id!r} at {p.site_id}")
        elif p.kind == "segment" and not item.audio:
            problems.append(f"segment {p.item_id!r} has no audio file")
        if p.end <= p.start:
            problems.append(f"{p.kind} {p.item_id!r} at {p.site_id} ends before it starts ({p.start} -> {p.end})")
    if problems:
        raise ExportError(f"plan {plan.week} cannot be exported:\n" + "\n".join(f"  - {x}" for x in sorted(set(problems))))


def _check_audio_unchanged(plan: WeekPlan, infos: dict) -> None:
    """The audio a manifest lists must be the audio that was planned: its duration decided the
    placement, so a file replaced since planning could overrun its slot."""
    changed = []
    for item in plan.items:
        if item.kind != "segment" or not item.audio or not item.sha256:
            continue
        info = infos.get(audio.audio_path(plan, item.audio))
        if info is not None and info.sha256 != item.sha256:
            changed.append(f"{info.path}: changed since the plan was made (sha256 {info.sha256[:12]}…, "
                           f"planned {item.sha256[:12]}…)")
    if changed:
        raise ExportError("audio changed since planning; plan the week again with `loa plan`:\n"
                          + "\n".join(f"  - {c}" for c in sorted(changed)) + "\nnothing was written")


def plan_outputs(plan: WeekPlan, out: Path, detail: str = "sessions",
                 only: set[str] | None = None) -> tuple[dict[Path, bytes], ExportSummary]:
    """Every output file as {path: bytes}, nothing written; raises ExportError on any bad input.

    `only`: the files of these sites and of their districts, no others (a re-plan that changed
    a few sites: the other files would come out byte for byte as they are)."""
    files: dict[Path, bytes] = {}
    summary = _outputs(plan, out, detail, only, files.update)
    return files, summary


def _outputs(plan: WeekPlan, out: Path, detail: str, only: set[str] | None,
             take: Callable[[dict[Path, bytes]], None]) -> ExportSummary:
    """Check the plan and its audio, then hand each reporting unit's files to `take` as they are
    made (`export_all` stages them at once, so a nation's files are never all in memory)."""
    t0 = time.perf_counter()
    out = Path(out)
    ical.check_detail(detail)
    _check_plan(plan)
    outside = sorted({i.audio for i in plan.items if i.audio and not is_inside(audio.audio_path(plan, i.audio),
                                                                               plan.dataset_root)})
    if outside:
        raise ExportError("audio outside the dataset folder (a symbolic link leads out of it): "
                          + ", ".join(outside) + "; nothing was written")
    items = {(i.kind, i.id): i for i in plan.items}
    wanted = {audio.audio_path(plan, items[(p.kind, p.item_id)].audio)
              for p in plan.placements if p.kind == "segment" and (only is None or p.site_id in only)}
    infos = audio.probe_many(wanted)
    _check_audio_unchanged(plan, infos)

    by_site = placements_by_site(plan.placements)
    districts: dict[str, list] = {}
    for site in sorted(plan.sites, key=lambda s: s.id):
        districts.setdefault(site.district_id, []).append(site)
    if only is not None:
        districts = {d: sites for d, sites in districts.items() if any(s.id in only for s in sites)}
    paths: list[Path] = []
    events = cancelled = calendars = manifests = 0
    for part in _map(_district_files, (plan, out, detail, only, infos),
                     [(sites, [by_site.get(s.id, []) for s in sites]) for _d, sites in sorted(districts.items())]):
        take(part.files)
        paths += part.files
        events, cancelled = events + part.events, cancelled + part.cancelled
        calendars, manifests = calendars + part.calendars, manifests + part.manifests
    return ExportSummary(calendars=calendars, events=events, manifests=manifests, audio_files=len(infos),
                         seconds=time.perf_counter() - t0, paths=tuple(paths), cancelled=cancelled, detail=detail)


@dataclass(frozen=True)
class _Part:
    files: dict
    events: int
    cancelled: int
    calendars: int
    manifests: int


def _district_files(shared: tuple, job: tuple) -> _Part:
    """One reporting unit's files: its sites' calendars (those in `only`) and manifests, and its
    own calendar. Each VEVENT is built once (SEQUENCE from the site's previous calendar) and
    shared by the site and district calendars, so both always agree; events of a previous
    calendar that are no longer planned are kept as STATUS:CANCELLED."""
    plan, out, detail, only, infos = shared
    sites, placements = job
    files: dict[Path, bytes] = {}
    events = cancelled = 0
    district_events: dict = {}
    district_gone: dict = {}
    made: dict = {}  # each event's bytes, serialised once for the site's and the district's calendar
    for site, todo in zip(sites, placements):
        path = site_calendar_path(plan, out, site.id, detail)
        previous = ical.read_previous(path)
        evs = ical.build_events(plan, todo, previous, detail)
        gone = ical.cancelled_events(plan, previous, evs)
        if only is None or site.id in only:
            events += len(evs)
            cancelled += len(gone)
            files[path] = ical.to_bytes(ical.assemble(plan, ical.site_calendar_name(plan, site, detail), evs, gone),
                                        made)
            ical.remember(files[path], evs, gone)
        if not is_province(plan, site):
            district_events.update(evs)
            district_gone.update(gone)
    calendars = len(files)
    if district_events:
        district_id = sites[0].district_id
        path = district_calendar_path(plan, out, district_id, detail)
        # the sites' cancellations, plus what only the district file still holds (a site left the plan)
        gone = ical.cancelled_events(plan, ical.read_previous(path), set(district_events) | set(district_gone))
        gone.update(district_gone)
        cal = ical.assemble(plan, ical.district_calendar_name(plan, unit_title(sites[0]), detail), district_events,
                            gone)
        files[path] = ical.to_bytes(cal, made)
        ical.remember(files[path], district_events, gone)
        calendars += 1
    manifests = 0
    for site, todo in zip(sites, placements):
        if only is not None and site.id not in only:
            continue
        for day in week_days(plan.week):  # every day, so a day emptied by a re-plan is rewritten
            files.update(manifest.manifest_files(plan, site.id, day, infos, out,
                                                 [p for p in todo if p.start.date() == day]))
            manifests += 1
    return _Part(files, events, cancelled, calendars, manifests)


_SHARED: dict = {}


def _run_shared(job):
    return _SHARED["fn"](_SHARED["shared"], job)


def _map(fn, shared: tuple, jobs: list) -> Iterator:
    """`fn(shared, job)` for each job, in order, as each is done, on a process pool of this
    machine's cores when there are several (building and parsing calendars is pure Python, one
    core each). `shared` (the plan) reaches the workers by fork, not by pickling it for every job."""
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers < 2 or os.environ.get("LOA_EXPORT_WORKERS") == "1":
        yield from (fn(shared, job) for job in jobs)
        return
    _SHARED.update(fn=fn, shared=shared)
    try:
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            with signals_held():  # submitting forks the workers
                done = pool.map(_run_shared, jobs)
            yield from done
    finally:
        _SHARED.clear()


def details_in(out: Path, week: str) -> tuple[str, ...]:
    """The calendar levels written for `week` under `out` ('sessions', and 'items' if a
    `loa export --detail items` wrote some): a re-plan re-exports each, so none goes stale."""
    folder = Path(out) / "calendars" / week
    items = folder.is_dir() and any(folder.glob(f"*/{_ics_name('*', 'items')}"))
    return ("sessions", "items") if items else ("sessions",)


def export_sites(plan: WeekPlan, out: Path, sites: set[str], run: OutputRun) -> ExportSummary:
    """Re-export `sites` (and their districts' files) of a plan whose other sites' files stand, at
    every calendar level written for the week, so none goes stale; the 'sessions' summary."""
    summaries = [export_all(plan, out, detail, run=run, only=sites) for detail in details_in(out, plan.week)]
    return summaries[0]


def export_all(plan: WeekPlan, out: Path, detail: str = "sessions", run: OutputRun | None = None,
               only: set[str] | None = None) -> ExportSummary:
    """Write calendars/<week>/... and audio_manifests/<week>/<site>/<date>.{m3u8,json} under `out`.

    `detail` is the calendars' level: 'sessions' (one event per session, `<site>.ics`) or 'items'
    (one per placement, `<site>.items.ics`). Without `run`, the export is its own transaction
    (lock, staging, switch). With one (`loa plan` passes the run that also holds plan.json) the
    files are only staged in it, and the caller commits. plan.json is not written here.
    """
    ical.check_detail(detail)
    if run is None:
        with OutputRun(out, output_folders(plan.week)) as own:
            summary = export_all(plan, out, detail, run=own, only=only)
            own.commit()
        return summary
    return _outputs(plan, out, detail, only, run.write_many)
