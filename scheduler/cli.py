"""`loa` command line: parse options, call the library, print. Nothing else lives here."""
from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from pathlib import Path

import click

from .domain import BULLETIN_LEVELS
from .errors import LoaError


class LoaGroup(click.Group):
    """Turns every LoaError into a plain message and its exit code: users never see a traceback.

    Anything else escaping a command is a bug in loa: it is reported as one (exit 1, please
    report), with the traceback only when LOA_DEBUG is set.
    """

    def invoke(self, ctx: click.Context):
        # a run builds a few million small objects that live until it ends (the plan, the
        # dataset, the events) and makes almost no cyclic garbage: the default collector walked
        # them again and again. Measured: a district re-plan 2.11 -> 2.02 s wall (5 pairs)
        gc.set_threshold(100_000, 50, 100)
        previous = _stop_on_sigterm()
        try:
            return super().invoke(ctx)
        except LoaError as exc:
            click.secho(f"Error: {exc}", err=True, fg="red")
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
            click.secho(f"Error: stopped by {signal.Signals(signum).name} before the end: the previous outputs "
                        "stay as they were, unless this run's were already being switched in (the next loa run "
                        "on that --out completes the switch; README, \"Runs are transactions\").",
                        err=True, fg="red")
            ctx.exit(128 + signum)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if os.environ.get("LOA_DEBUG"):
                raise
            click.secho(f"Error: internal error ({type(exc).__name__}: {str(exc)[:300]}). This is a bug in loa: "
                        "please report it with the command you ran (LOA_DEBUG=1 shows the details).",
                        err=True, fg="red")
            ctx.exit(1)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


class Stopped(KeyboardInterrupt):
    """A signal that stops loa the way Ctrl-C does (`_stop_on_sigterm`)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum, _frame):
    raise Stopped(signum)


def _default_sigterm_in_child() -> None:
    if signal.getsignal(signal.SIGTERM) is _stop:  # a pool stops its workers with SIGTERM
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


os.register_at_fork(after_in_child=_default_sigterm_in_child)


def _stop_on_sigterm():
    """SIGTERM (a supervisor, `timeout`, `kill`) stops a run as Ctrl-C does, so its clean-up runs:
    the staged outputs are dropped and a bulletin it added leaves the dataset again. Returns the
    handler it replaced (None off the main thread, where Python cannot set one)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _stop)


@click.group(cls=LoaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="loa-scheduler")
def main() -> None:
    """loa: weekly PAR programmes and relays for commune loudspeaker systems.

    \b
    Example:
        loa validate --data data/gia_lai_2024
        loa plan --data data/gia_lai_2024 --week 2024-W10
    """


@main.command("validate")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path),
              help="Dataset folder (see docs/dataset-format.md).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 2).")
def validate_cmd(data: Path, as_json: bool, strict: bool) -> None:
    """Check a dataset and print a summary; list every problem and exit 2 if it is invalid.

    Warnings (what would plan wrong without a word: unknown language codes, segments that can
    never air, blackouts over mandatory relays, relays that cannot fit, ';'-separated CSV) are
    printed too; the exit code stays 0 unless --strict.

    \b
    Example:
        loa validate --data data/gia_lai_2024
        loa validate --data data/gia_lai_2025 --strict
        loa validate --data data/gia_lai_2024 --json
    """
    import json

    from .dataset import load_dataset
    from .errors import DataError
    from .views import format_summary, format_warnings, summary

    dataset = load_dataset(data)
    if strict and dataset.warnings:
        raise DataError(list(dataset.warnings))
    info = summary(dataset)
    click.echo(json.dumps(info, ensure_ascii=False, indent=2) if as_json else format_summary(info))
    if dataset.warnings and not as_json:
        click.secho(format_warnings(dataset.warnings), err=True, fg="yellow")


@main.command("sites")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path),
              help="Dataset folder (see docs/dataset-format.md).")
@click.option("--district", "district", default=None,
              help="Only sites under this area id (a district, or any area).")
@click.option("--json", "as_json", is_flag=True, help="Print the sites as JSON.")
def sites_cmd(data: Path, district: str | None, as_json: bool) -> None:
    """List the loudspeaker sites of a dataset, optionally of one district.

    \b
    Example:
        loa sites --data data/gia_lai_2024 --district chu-se
        loa sites --data data/gia_lai_2024 --json
    """
    import json

    from .dataset import load_dataset
    from .views import site_rows

    ds = load_dataset(data)
    rows = site_rows(ds, district)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        station = "" if r["has_station"] else "  (no station)"
        group = f"  sync {r['sync_group']}" if r["sync_group"] else ""
        click.echo(
            f"{r['site_id']:<28} {r['name']:<24} {r['district']:<12} {r['kind']:<5} {r['technology']:<5} "
            f"{r['population']:>7,}  {';'.join(r['languages']):<8} {r['profile']}{group}{station}"
        )
    click.echo(f"{len(rows)} site(s)")


@main.command("add-item")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path),
              help="Dataset folder to add the item to (see docs/dataset-format.md).")
@click.argument("audio", required=False, type=click.Path(path_type=Path))
@click.option("--text", "text", type=click.Path(path_type=Path), default=None,
              help="Instead of AUDIO: a UTF-8 text file spoken offline by espeak-ng (a text bulletin).")
@click.option("--voice", default="vi", show_default=True, help="espeak-ng voice for --text (vi, vi-vn-x-south, ...).")
@click.option("--title", required=True, help="Title with its diacritics; the id is made from it (đ -> d).")
@click.option("--topic", required=True, type=int, help="Content area 1..10 of the plan (section II).")
@click.option("--scope", "scope", required=True, multiple=True,
              help="Area, group or site id where it airs (repeatable, or 'a;b').")
@click.option("--language", default="vi", show_default=True, help="Language code of the item.")
@click.option("--priority", default=3, show_default=True, type=int, help="1..5 (5 = most important).")
@click.option("--plays", default="1..3", show_default=True, help="Plays a week at each site: N or MIN..MAX.")
@click.option("--valid", default=None, help="Days it may air, FROM..TO (ISO dates, inclusive; a side may be open).")
@click.option("--id", "segment_id", default=None, help="Segment id to use instead of the title's slug.")
@click.option("--source", default="", help="Who produced it (shown in calendars).")
@click.option("--gap", "gap", default=None, type=int, help="Minimum minutes between two plays at one site.")
@click.option("--json", "as_json", is_flag=True, help="Print the new segment as JSON.")
def add_item_cmd(data, audio, text, voice, title, topic, scope, language, priority, plays, valid, segment_id, source,
                 gap, as_json) -> None:
    """Add one PAR item (an audio file, or a text spoken offline) to a dataset's segments.csv.

    The audio is probed (readable, not silent) and copied to audio/<id>.<ext>, the id being the
    title's slug with its diacritics folded; the same audio already in the dataset is refused,
    naming its segment. The row is appended only if the whole dataset still validates with it;
    otherwise, or on any other error, nothing is written (exit 2; a missing tool: exit 4).
    Prints the new id, then a summary. Re-plan the week to air it.

    \b
    Example:
        loa add-item --data data/gia_lai_2024 bao-so-3.mp3 --title "Cảnh báo bão số 3" \\
                     --topic 10 --scope chu-se --plays 2..4 --valid 2024-03-06..2024-03-10
        loa add-item --data data/gia_lai_2024 --text ban-tin.txt --voice vi \\
                     --title "Thông báo lịch tiếp dân" --topic 7 --scope chu-se --priority 4
    """
    import json

    from .ops.additem import add_segment, parse_plays, parse_scope, parse_valid

    new = add_segment(data, audio, text=text, voice=voice, title=title, topic=topic, scope=parse_scope(scope),
                      language=language, priority=priority, plays=parse_plays(plays),
                      valid=parse_valid(valid) if valid is not None else (None, None), segment_id=segment_id,
                      source=source, gap_min=gap)
    if as_json:
        click.echo(json.dumps(new.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(new.id)
        click.echo(f"  {new.summary()}")
    if new.warnings and not as_json:
        click.secho("\n".join(f"warning: {w}" for w in new.warnings), err=True, fg="yellow")


@main.command("export")
@click.option("--plan", "plan_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="plan.json written by `loa plan`.")
@click.option("--out", "out", default=".", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Root of calendars/ and audio_manifests/.")
@click.option("--detail", default="sessions", show_default=True, type=click.Choice(["sessions", "items"]),
              help="Calendar events: one per session (buổi phát, for the operator's phone) or one per item "
                   "(for automation, written as <site>.items.ics).")
@click.option("--bundle", is_flag=True,
              help="Also write one zip per site and week to forward (bundles/<week>/<district>/<site>_<week>.zip): "
                   "day manifests, MP3 audio, calendar and printed schedule; needs ffmpeg and Chromium.")
@click.option("--site", "sites", multiple=True, help="With --bundle: only this site's bundle (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def export_cmd(plan_path: Path, out: Path, detail: str, bundle: bool, sites: tuple[str, ...], as_json: bool) -> None:
    """Write the iCal calendars and playlist manifests of a saved plan (no solving).

    Writes calendars/<week>/<unit>/<site>.ics, calendars/<week>/<unit>.ics and
    audio_manifests/<week>/<site>/<date>.m3u8 + .json under OUT (<unit>: the site's reporting
    unit). The plan is re-verified and every audio file probed first; a bad plan or a missing,
    unreadable or silent file stops the export before anything is written. plan.json itself is
    left where it is. With --bundle, also one zip per site that plays from any folder it is
    unzipped into, in the same transaction.

    \b
    Example:
        loa export --plan audio_manifests/2024-W10/plan.json --out .
        loa export --plan audio_manifests/2024-W10/plan.json --out . --detail items
        loa export --plan audio_manifests/2024-W10/plan.json --out . --bundle --site chu-se-ia-blang
    """
    import json as _json

    from .export import bundle_folder, export_all, output_folders
    from .fsutil import OutputRun
    from .planfile import read_checked_plan

    if sites and not bundle:
        raise click.UsageError("--site chooses bundles: use it with --bundle")
    bundles = []
    with OutputRun(out, ()) as run:  # lock and recover first: the plan may live under --out
        plan = read_checked_plan(plan_path)
        chosen = _chosen_sites(plan, (), sites)
        run.own(output_folders(plan.week) + ((bundle_folder(plan.week),) if bundle else ()))
        summary = export_all(plan, out, detail, run=run)
        if bundle:
            from .export.bundle import write_bundles

            n = len(chosen or plan.sites)
            with click.progressbar(length=n, label="bundles", file=sys.stderr) as bar:
                bundles = write_bundles(plan, out, chosen, on_site=lambda _sid: bar.update(1), run=run)
        run.commit()
    if as_json:
        click.echo(_json.dumps(summary.as_dict() | ({"bundles": len(bundles)} if bundle else {})))
    else:
        click.echo(f"exported {summary.calendars} calendars ({summary.event_counts()}, one per {detail[:-1]}) and "
                   f"{summary.manifests} day manifests ({summary.audio_files} audio files probed) "
                   f"to {out} in {summary.seconds:.2f} s")
        if bundle:
            click.echo(f"wrote {len(bundles)} bundles ({sum(p.stat().st_size for p in bundles) / 1e6:,.1f} MB) "
                       f"to {Path(out) / 'bundles' / plan.week}")


@main.command("render")
@click.option("--plan", "plan_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="plan.json written by `loa plan`.")
@click.option("--site", "site_id", required=True, help="Site id, e.g. ia-ka.")
@click.option("--date", "day", required=True, help="Day to render, YYYY-MM-DD (within the plan's week).")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the session files [default: audio_manifests/<week>/<site>/sessions].")
@click.option("--gap-ms", default=2000, show_default=True, type=click.IntRange(min=0),
              help="Silence between two segments of a session.")
@click.option("--target-dbfs", default=-18.0, show_default=True, type=float,
              help="Loudness (RMS dBFS) every segment is matched to; peaks are kept under -1 dBFS.")
@click.option("--format", "fmt", default="mp3", show_default=True, type=click.Choice(["mp3", "ogg", "wav"]))
@click.option("--session-gap", "session_gap", default=None, type=click.IntRange(min=1),
              help="Minutes of silence that start a new session [default: the site's session_gap_minutes, "
                   "as recorded in the plan].")
def render_cmd(plan_path: Path, site_id: str, day: str, out: Path | None, gap_ms: int, target_dbfs: float,
               fmt: str, session_gap: int | None) -> None:
    """Render the recorded segments of a site's day as audio files to start on time (needs ffmpeg).

    A session is a run of placements closer than the session gap. Relays are NOT in the rendered
    audio: a live relay comes from the receiver, a recorded one from the operator's own
    recording. Each run of segments between relays is one file, in air order, loudness-matched,
    separated by --gap-ms of silence; a session of relays only gives no file. Files are named
    <site>_<date>_<HHMM>.<format>, HHMM being the start of their first segment: after a relay,
    the time it ends, so a file started at its time never plays over the news.

    \b
    Example:
        loa render --plan audio_manifests/2024-W10/plan.json --site ia-ka --date 2024-03-04
    """
    from .domain import week_days
    from .errors import DataError, Problem
    from .export.audio import parse_day, render_session_files, render_sessions
    from .fsutil import OutputRun
    from .planfile import read_checked_plan

    plan = read_checked_plan(plan_path)
    d = parse_day(day)
    problems = []
    if site_id not in {s.id for s in plan.sites}:
        problems.append(Problem("--site", None, "site", site_id, f"a site of the plan ({plan_path})"))
    if d not in week_days(plan.week):
        problems.append(Problem("--date", None, "date", day, f"a day of the plan's week {plan.week}"))
    if problems:
        raise DataError(problems)
    root = Path(".") if out is None else None
    if out is None:
        out = Path("audio_manifests") / plan.week / site_id / "sessions"
    if root is not None:  # the sessions live in a week folder under "." : one transaction with its lock
        with OutputRun(root, [f"audio_manifests/{plan.week}"]) as run:
            files = render_session_files(plan, site_id, d, out, gap_ms=gap_ms, target_dbfs=target_dbfs, fmt=fmt,
                                         session_gap_minutes=session_gap)
            run.write_many(files)
            run.commit()
        paths = list(files)
    else:
        paths = render_sessions(plan, site_id, d, out, gap_ms=gap_ms, target_dbfs=target_dbfs, fmt=fmt,
                                session_gap_minutes=session_gap)
    if not paths:
        click.echo(f"{site_id} {d}: no recorded segment to render (relays only or nothing planned)")
    for p in paths:
        click.echo(str(p))


@main.command("report")
@click.option("--plan", "plan_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="plan.json written by `loa plan`.")
@click.option("--out", "out", default="reports", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for the report files.")
@click.option("--lang", default="vi", show_default=True, type=click.Choice(["vi", "en"]),
              help="Language of headers and labels.")
@click.option("--site", "chart_site", default=None,
              help="Site of the availability chart [default: the site with most PAR plays].")
def report_cmd(plan_path: Path, out: Path, lang: str, chart_site: str | None) -> None:
    """Write KPI tables (CSV, XLSX), one HTML page per district, index.html and PNG charts.

    KPIs per site, district and province: PAR plays and minutes, expected listener-plays (and per
    1,000 inhabitants), people reached at least once, required plays met, mandatory relays aired
    in full, relays aired per source, content areas II.1-II.10 covered, minutes per language,
    airtime vs daily cap, sessions per day; tables by content area, by segment and by relay
    source; the optimality gap in a technical table for planners. CSV files are UTF-8 with BOM
    (Excel shows Vietnamese correctly); HTML pages need no internet and print one site's week
    per A4 landscape page.

    \b
    Example:
        loa report --plan audio_manifests/2024-W10/plan.json --out reports/
        loa report --plan audio_manifests/2024-W10/plan.json --out reports/ --lang en --site ia-ka
    """
    from .export.report import districts_of, write_report
    from .planfile import read_plan

    plan = read_plan(plan_path)
    n = len(districts_of(plan))
    with click.progressbar(length=n, label="district pages", file=sys.stderr) as bar:
        paths = write_report(plan, out, lang=lang, chart_site=chart_site,
                             on_district=lambda _did: bar.update(1))
    click.echo(f"wrote {len(paths)} files ({n} district pages) to {out}; open {Path(out) / 'index.html'}")


@main.command("print")
@click.option("--plan", "plan_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="plan.json written by `loa plan`.")
@click.option("--out", "out", default="print", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the printed pages.")
@click.option("--district", "districts", multiple=True,
              help="Only the sites of this reporting unit (district or group id, repeatable).")
@click.option("--site", "sites", multiple=True, help="Only this site (repeatable).")
@click.option("--no-pdf", is_flag=True, help="Write the HTML pages only (no Chromium needed).")
def print_cmd(plan_path: Path, out: Path, districts: tuple[str, ...], sites: tuple[str, ...], no_pdf: bool) -> None:
    """Print the week: a "Lịch phát sóng" A4 page per commune station and a summary page per reporting unit.

    Writes OUT/<unit>/lich-phat-song_<site>_<week>.html + .pdf (one A4 portrait page: the
    national motto and the commune's name, per day the rows of Buổi / Giờ / Nội dung / Nguồn /
    Thời lượng with relays and recordings marked, the week's PAR items, a signature block) and
    OUT/tong-hop_<unit>_<week>.html + .pdf (one page per reporting unit for reporting upward: a
    district, a group or the province, named by its kind in the data). The plan is re-verified
    first; the pages are written all or none. PDFs are printed by headless Chromium and carry the
    plan's date, so reruns give the same bytes.

    \b
    Example:
        loa print --plan audio_manifests/2024-W10/plan.json --out print/
        loa print --plan audio_manifests/2024-W10/plan.json --site chu-se-ia-blang --no-pdf
    """
    from .export.printable import write_print
    from .planfile import read_checked_plan

    plan = read_checked_plan(plan_path)  # re-verified, as for export: operators print what they air
    site_ids = _chosen_sites(plan, districts, sites)
    n = len(site_ids or plan.sites)
    n += len({s.district_id for s in plan.sites if site_ids is None or s.id in site_ids})
    with click.progressbar(length=n, label="printed pages", file=sys.stderr) as bar:
        paths = write_print(plan, out, site_ids, pdf=not no_pdf, on_page=lambda _name: bar.update(1))
    click.echo(f"wrote {len(paths)} files ({n} pages) to {out}")


def _chosen_sites(plan, districts, sites) -> list[str] | None:
    """The site ids of --district/--site options (None: every site); unknown ids are an error."""
    if not districts and not sites:
        return None
    known_d = {s.district_id for s in plan.sites}
    bad = [d for d in districts if d not in known_d] + [s for s in sites if s not in {x.id for x in plan.sites}]
    if bad:
        raise click.UsageError(f"not in the plan of {plan.week}: {', '.join(bad)}")
    return sorted({s.id for s in plan.sites if s.district_id in districts} | set(sites))


@main.command("compare")
@click.argument("plan_a", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("plan_b", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON (for scripts).")
@click.option("--lang", default="en", show_default=True, type=click.Choice(["vi", "en"]),
              help="Language of the KPI names in the table.")
def compare_cmd(plan_a: Path, plan_b: Path, as_json: bool, lang: str) -> None:
    """Show what changed from PLAN_A to PLAN_B: KPI deltas and moved/added/removed placements.

    A placement is "moved" when the same item airs at the same site on the same day at another
    time; otherwise it is added (only in B) or removed (only in A). Each plan is scored by the
    rules stored in its plan.json (the dataset and policy it was made with), so neither dataset
    folder is read.

    \b
    Example:
        loa compare plans/base.json plans/more_reach.json
        loa compare plans/base.json plans/more_reach.json --json | jq .placements
    """
    from .export.compare import compare, compare_json, format_compare
    from .planfile import read_plan

    result = compare(read_plan(plan_a), read_plan(plan_b))
    click.echo(compare_json(result) if as_json else format_compare(result, lang))


_DATA = click.option("--data", "data", required=True, type=click.Path(path_type=Path),
                     help="Dataset folder (see docs/dataset-format.md).")
_WEEK = click.option("--week", required=True, help="ISO week, e.g. 2024-W10 (Monday start).")
_SET = click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
                    help="Override a policy value, e.g. policy.max_session_minutes=30 or weights.spread_days=2.")
_POLICY = click.option("--policy", "policy_file", type=click.Path(path_type=Path), default=None,
                       help="Use this policy.toml instead of the dataset's.")


@main.command("plan")
@_DATA
@_WEEK
@click.option("--district", "districts", multiple=True, help="Plan only the sites under this area id (repeatable).")
@click.option("--site", "sites", multiple=True, help="Plan only this site (repeatable).")
@_SET
@_POLICY
@click.option("--out", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="Output root: writes audio_manifests/<week>/plan.json, calendars/ and manifests under it.")
@click.option("--workers", type=int, default=None, help="Parallel solver processes (default: CPU count).")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="local: a process pool on this machine; dask: the units go to a Dask cluster (--scheduler).")
@click.option("--scheduler", "scheduler", default=None, metavar="ADDRESS",
              help="Dask scheduler address for --executor dask, e.g. tcp://10.0.0.5:8786.")
@click.option("--no-cache", is_flag=True,
              help="Solve every unit again instead of reusing solved units from the cache ($LOA_CACHE_DIR).")
@click.option("--no-export", is_flag=True, help="Write plan.json only, no calendars or manifests.")
@click.option("--report", "report_dir", type=click.Path(path_type=Path), default=None,
              help="Also write the KPI reports (CSV, XLSX, HTML) into this folder.")
def plan_cmd(data, week, districts, sites, settings, policy_file, out, workers, executor, scheduler, no_cache,
             no_export, report_dir) -> None:
    """Plan one ISO week for every loudspeaker system (or some), then export it.

    Prints a summary; infeasible sites are explained and the command exits 3, after the
    feasible ones have been written (nothing is written when no site can be planned); an
    infeasible site keeps the schedule it had in the week's plan.json under --out. With
    --district/--site, the plan goes into the week's plan.json already under --out: the other
    sites keep their schedule. Units whose problem has not changed since a previous run are
    taken from the solution cache (the same answer, byte for byte).

    \b
    Example:
        loa plan --data data/gia_lai_2024 --week 2024-W10
        loa plan --data data/gia_lai_2024 --week 2024-W10 --district krong-pa \\
                 --set policy.max_session_minutes=30 --set weights.spread_days=2
        loa plan --data data/gia_lai_2024 --week 2024-W10 --executor dask --scheduler tcp://10.0.0.5:8786
    """
    from .export import export_all, export_sites, output_folders
    from .fsutil import OutputRun
    from .pipeline import check_week, emergency_bulletins, plan_and_write, prepare_dataset, select_sites
    from .solver.cache import SolutionCache

    week = check_week(week)
    # one transaction: plan.json and its calendars and manifests are switched in together, or nothing
    with OutputRun(out, output_folders(week)) as run:
        dataset = prepare_dataset(data, policy_file, settings)
        if dataset.warnings:
            from .views import format_warnings

            click.secho(format_warnings(dataset.warnings), err=True, fg="yellow")
        site_ids = select_sites(dataset, districts, sites)
        urgent = emergency_bulletins(dataset, week)
        if urgent:
            click.secho(f"warning: {len(urgent)} emergency bulletin(s) of this week ({', '.join(urgent[:5])}) are "
                        "aired only by `loa bulletin` and kept by `loa replan`; this plan from scratch does not "
                        "air them (use `loa replan` to change a week under way)", err=True, fg="yellow")
        recorded = tuple(("set", s) for s in settings) + ((("policy", str(policy_file)),) if policy_file else ())
        with click.progressbar(length=1, label=f"Planning {week}", file=sys.stderr, show_pos=True,
                               item_show_func=lambda unit_id: unit_id or "") as bar:
            def progress(done: int, total: int, unit_id: str) -> None:
                bar.length = total
                bar.update(1, unit_id)

            outcome = plan_and_write(dataset, week, out, site_ids, workers, progress=progress, settings=recorded,
                                     run=run, executor=executor, scheduler=scheduler,
                                     cache=None if no_cache else SolutionCache.default())
        if no_export:
            summary = None
        elif outcome.stats.get("kept_sites"):  # went into the week's plan: the other sites' files stand
            summary = export_sites(outcome.plan, out, set(site_ids), run)
        else:
            summary = export_all(outcome.plan, out, run=run)
        run.commit()
    plan = outcome.plan
    _print_plan_summary(plan, outcome.wall_s, outcome.stats.get("kept_previous", frozenset()))
    st = outcome.stats
    click.echo(f"units: {st['units']}, distinct solves: {st['distinct']}, "
               f"from the solution cache: {st['cache_hits']}")
    if st.get("kept_sites"):
        click.echo(f"merged into the week's plan: {st['kept_sites']} other site(s) kept their schedule")
    click.echo(f"plan: {outcome.plan_path}")
    if summary is not None:
        click.echo(f"exported: {summary}")
    if report_dir is not None:
        from .export.report import write_report

        written = write_report(plan, report_dir)
        click.echo(f"reports: {len(written)} files in {report_dir}")
    if outcome.infeasible:
        from .errors import InfeasibleError

        raise InfeasibleError(outcome.infeasible)


def _print_plan_summary(plan, wall_s: float, kept_sites: frozenset[str] = frozenset()) -> None:
    """`kept_sites`: the sites this run could not plan that kept their previous schedule."""
    from collections import defaultdict

    from .domain import SolveStatus

    kept = {u.unit_id for u in plan.units if u.site_ids and kept_sites.issuperset(u.site_ids)}

    segs = [p for p in plan.placements if p.kind == "segment"]
    audio_s = {i.id: i.duration_s for i in plan.items if i.kind == "segment"}
    # a site of a unit that could not be planned is in the plan, but not planned (its conflicts follow)
    solved = [u for u in plan.units if u.status.planned and u.unit_id not in kept]
    planned_sites = len({sid for u in solved for sid in u.site_ids} - kept_sites)
    sites = f"{planned_sites}" if planned_sites == len(plan.sites) else f"{planned_sites} of {len(plan.sites)}"
    click.echo(f"week {plan.week}: {sites} sites planned"
               + (f" ({len(kept_sites)} kept the previous schedule)" if kept_sites else "")
               + f", {len(plan.placements)} placements, "
               f"{sum(audio_s[p.item_id] for p in segs) / 60:,.0f} PAR minutes of audio, "
               f"{sum(p.listeners for p in segs):,.0f} expected listener-plays, {wall_s:.1f} s")
    by_district = defaultdict(list)
    for u in plan.units:
        by_district[u.district_id].append(u)
    statuses = {district: _status_text(units, kept) for district, units in by_district.items()}
    width = max([34] + [len(text) + 1 for text in statuses.values()])
    click.echo(f"{'reporting unit':<14}{'units':>6}  {'status':<{width}}{'objective':>14}{'bound':>14}{'gap':>8}")
    for district, units in sorted(by_district.items()):
        ok = [u for u in units if u in solved]
        obj = sum(u.objective for u in ok)
        bound = sum(u.bound for u in ok)
        gap = (bound - obj) / bound if bound else 0.0
        click.echo(f"{district:<14}{len(units):>6}  {statuses[district]:<{width}}{obj:>14,.0f}{bound:>14,.0f}{gap:>8.2%}")
    if solved:
        worst = max(solved, key=lambda u: u.gap)
        proven = sum(u.status is SolveStatus.OPTIMAL for u in solved)
        click.echo(f"{proven} of {len(solved)} units proven optimal; every unit within {worst.gap:.2%} of its "
                   f"optimum (proven: objective {worst.objective:,.0f}, bound {worst.bound:,.0f} at {worst.unit_id})")


def _status_text(units, kept: frozenset[str]) -> str:
    """'optimal (proven)' when every unit planned has its optimum proven, else 'within X% of
    optimum (proven)' for the worst, then how many units have no plan (by status), and how many
    kept their previous one."""
    from .domain import SolveStatus

    planned = [u for u in units if u.status.planned and u.unit_id not in kept]
    parts = []
    if planned:
        worst = max(u.gap for u in planned)
        parts.append("optimal (proven)" if all(u.status is SolveStatus.OPTIMAL for u in planned)
                     else f"within {max(worst, 0.0001):.2%} of optimum (proven)")
    failed: dict[str, int] = {}
    for u in units:
        if not u.status.planned and u.unit_id not in kept:
            failed[str(u.status)] = failed.get(str(u.status), 0) + 1
    parts += [f"{n} {status}" for status, n in sorted(failed.items())]
    if any(u.unit_id in kept for u in units):
        parts.append(f"{sum(u.unit_id in kept for u in units)} kept previous")
    return ", ".join(parts)


_PLAN_FILE = click.option("--plan", "plan_file", required=True, type=click.Path(path_type=Path),
                         help="The week's plan.json (audio_manifests/<week>/plan.json).")


@main.command("replan")
@_PLAN_FILE
@click.option("--from", "cutoff", required=True, metavar="'YYYY-MM-DD HH:MM'",
              help="Local time from which the week may change; everything that starts before is kept.")
@click.option("--data", "data", type=click.Path(path_type=Path), default=None,
              help="Dataset folder (default: the one the plan was made from).")
@click.option("--district", "districts", multiple=True, help="Re-plan only the sites under this area id (repeatable).")
@click.option("--site", "sites", multiple=True, help="Re-plan only this site (repeatable).")
@_SET
@_POLICY
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output root (default: the one the plan was written under).")
@click.option("--workers", type=int, default=None, help="Parallel solver processes (default: CPU count).")
@click.option("--no-export", is_flag=True, help="Write plan.json only, no calendars or manifests.")
@click.option("--json", "as_json", is_flag=True, help="Print what changed as JSON.")
def replan_cmd(plan_file, cutoff, data, districts, sites, settings, policy_file, out, workers, no_export,
               as_json) -> None:
    """Re-plan a week under way: keep everything that starts before --from, solve the rest again.

    New items, changed rules (--set) and new recordings are taken in; placements that still fit
    stay where they were (policy weight `stability`). Only sites whose inputs changed (or those
    of --district/--site) are solved; the plan keeps the whole province. Prints, per site, what
    was added, moved and removed; calendars are re-exported with SEQUENCE raised on changed
    events and dropped ones cancelled.

    \b
    Example:
        loa add-item --data data/gia_lai_2024 bao.ogg --title "Thông báo" --topic 4 --scope chu-se
        loa replan --plan audio_manifests/2024-W10/plan.json --from "2024-03-06 12:00" --district chu-se
    """
    from .pipeline import replan_and_write
    from .solver.cache import SolutionCache

    outcome = replan_and_write(plan_file, cutoff, out, data, policy_file, settings, districts, sites, workers,
                               SolutionCache.default(), export=not no_export)
    _print_replan(outcome, as_json)


@main.command("bulletin")
@_PLAN_FILE
@click.option("--level", required=True, type=click.Choice(list(BULLETIN_LEVELS)),
              help="Circular 39/2020/TT-BTTTT level (docs/circular-39.md).")
@click.option("--audio", type=click.Path(path_type=Path), default=None, help="The bulletin's recording.")
@click.option("--text", "text", type=click.Path(path_type=Path), default=None,
              help="A UTF-8 text file to speak offline with espeak-ng instead (labelled synthetic speech).")
@click.option("--voice", default="vi", show_default=True, help="espeak-ng voice for --text.")
@click.option("--title", required=True, help="Title shown in calendars and playlists.")
@click.option("--scope", "scope", multiple=True, required=True,
              help="Area, group or site id the bulletin goes to (repeatable).")
@click.option("--from", "cutoff", required=True, metavar="'YYYY-MM-DD HH:MM'",
              help="Local time it is sent at; everything that starts before is kept.")
@click.option("--repeat", type=int, default=1, show_default=True, help="Airings (emergency: --every apart).")
@click.option("--every", type=int, default=60, show_default=True, help="Minutes between emergency repeats.")
@click.option("--topic", type=int, default=4, show_default=True, help="Content area 1..10 of the PAR plan.")
@click.option("--language", default="vi", show_default=True, help="Language of the bulletin.")
@click.option("--data", "data", type=click.Path(path_type=Path), default=None,
              help="Dataset folder (default: the one the plan was made from); the bulletin is added to it.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output root (default: the one the plan was written under).")
@click.option("--workers", type=int, default=None, help="Parallel solver processes (default: CPU count).")
@click.option("--json", "as_json", is_flag=True, help="Print what changed as JSON.")
def bulletin_cmd(plan_file, level, audio, text, voice, title, scope, cutoff, repeat, every, topic, language, data,
                 out, workers, as_json) -> None:
    """Send a bulletin mid-week, by its Circular 39 level, and re-plan around it.

    \b
    emergency (khẩn cấp): at every site in scope, at the first free minute at or after --from,
      outside windows, session limits and the daily cap; it interrupts nothing on air and no
      live relay (a live relay cannot move); repeated --repeat times, --every minutes apart;
      quiet hours only if policy.emergency_in_quiet_hours = true.
    priority (ưu tiên): opens the next session of each site that has room for it, ahead of the
      other items; items the limits no longer allow are moved or dropped, and listed.
    normal (thông thường): a new item planned from --from on, like `add-item` + `replan`.

    The bulletin is added to the dataset's segments.csv with its level, the past is kept, and
    plan.json, the changed calendars (SEQUENCE raised, dropped events cancelled) and playlists
    are written as one transaction.

    \b
    Example:
        loa bulletin --plan audio_manifests/2024-W10/plan.json --level emergency \\
            --text bao-so-3.txt --title "Cảnh báo bão số 3" --scope chu-se \\
            --from "2024-03-06 14:10" --repeat 3 --every 60
    """
    from .ops.bulletin import Bulletin
    from .pipeline import replan_and_write
    from .solver.cache import SolutionCache

    bulletin = Bulletin(level, title, tuple(scope), audio, text, voice, language, topic, repeat, every)
    outcome = replan_and_write(plan_file, cutoff, out, data, workers=workers, cache=SolutionCache.default(),
                               bulletin=bulletin)
    if not as_json:
        click.echo(f"bulletin {outcome.bulletin_id} ({level}) added to the dataset")
        short = {sid: n for sid, n in outcome.aired.items() if n < repeat}
        if short:
            click.secho(f"only {min(short.values())} of {repeat} airing(s) fit before the week ends at "
                        f"{len(short)} site(s) ({', '.join(sorted(short)[:10])}{', …' if len(short) > 10 else ''}): "
                        "send the rest in the next week's plan", err=True, fg="yellow")
        if outcome.waits:
            late = {sid: m for sid, m in outcome.waits.items() if m > 0}
            click.echo(f"first airing at --from at {len(outcome.waits) - len(late)} of {len(outcome.waits)} site(s)"
                       + ("; later where something was on air, a live relay, a blackout or quiet hours came first: "
                          + ", ".join(f"{sid} +{m} min" for sid, m in sorted(late.items(), key=lambda kv: (-kv[1], kv[0])))
                          if late else ""))
    _print_replan(outcome, as_json)


def _print_replan(outcome, as_json: bool) -> None:
    import json

    from .ops.replan import changes_by_district, kept_previous

    r = outcome.replanned
    if as_json:
        click.echo(json.dumps({
            "plan": str(outcome.plan_path), "seconds": round(outcome.wall_s, 2), "solved_units": list(r.solved),
            "kept_units": r.kept, "by_district": changes_by_district(r.plan, r.changes),
            "changes": [{"site": c.site_id, "change": c.change, "kind": c.kind, "id": c.item_id,
                         "before": c.before.isoformat() if c.before else None,
                         "after": c.after.isoformat() if c.after else None} for c in r.changes],
            "infeasible": r.infeasible, "bulletin": outcome.bulletin_id or None,
            "emergency_wait_minutes": outcome.waits, "unchanged": outcome.unchanged}, ensure_ascii=False, indent=2))
    else:
        click.echo(f"re-planned {len(r.solved)} unit(s) from the cut-off, kept the other {r.kept} as they were, "
                   f"in {outcome.wall_s:.1f} s")
        names = {s.id: s.name for s in r.plan.sites}
        site = None
        for c in r.changes:
            if c.site_id != site:
                site = c.site_id
                click.echo(f"{names.get(site, site)} ({site}):")
            when = " -> ".join(f"{t:%a %d/%m %H:%M}" for t in (c.before, c.after) if t is not None)
            click.echo(f"  {c.change:<8}{c.kind:<8}{c.item_id:<40}{when}")
        totals = changes_by_district(r.plan, r.changes)
        if not r.changes:
            click.echo("nothing changed after the cut-off")
        for district, row in totals.items():
            click.echo(f"{district}: {row['added']} added, {row['moved']} moved, {row['shifted']} shifted "
                       f"(same session, <= 15 min), {row['removed']} removed")
        click.echo(f"plan: {outcome.plan_path}" + (" (unchanged: nothing written)" if outcome.unchanged else ""))
        if outcome.exported is not None:
            click.echo(f"exported: {outcome.exported}")
    if r.infeasible:
        from .errors import InfeasibleError

        raise InfeasibleError({u: kept_previous(c) for u, c in r.infeasible.items()})


@main.command("explain")
@_DATA
@_WEEK
@click.option("--site", required=True, help="Site id (see `loa sites`).")
@_SET
@_POLICY
@click.option("--alternatives", default=3, show_default=True, help="Best other slots to show per PAR item.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def explain_cmd(data, week, site, settings, policy_file, alternatives, as_json) -> None:
    """Why each item sits where it sits at one site: score terms and the best alternatives.

    \b
    Example:
        loa explain --data data/gia_lai_2024 --week 2024-W10 --site krong-pa-ia-rmok
    """
    import json

    from .pipeline import check_week, explain_site, prepare_dataset

    dataset = prepare_dataset(data, policy_file, settings)
    report = explain_site(dataset, check_week(week), site, alternatives)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    click.echo(f"{report['site']} ({report['site_id']}), week {report['week']}: solver {report['status']}")
    for line in report["conflicts"]:
        click.echo(f"  conflict: {line}")
    for p in report["placements"]:
        terms = ", ".join(f"{k}={v:,.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in p["score"].items())
        click.echo(f"{p['day']} {p['start']}-{p['end']}  {p['kind']:<7} {p['title']}")
        click.echo(f"      {terms}")
        for alt in p["alternatives"]:
            click.echo(f"      alt {alt['day']} {alt['start']}: availability {alt['availability']:.2f}, "
                       f"listeners {alt['listeners']:,.0f}, reach {alt['reach']:,.0f}")


@main.command("tune")
@_DATA
@_WEEK
@click.option("--district", "districts", multiple=True, required=True,
              help="Plan the sites under this area or group id (repeatable; one district is the usual).")
@click.option("--sweep", "sweeps", multiple=True, required=True, metavar="KEY=V1,V2,...",
              help="A --set key and the values to try, e.g. weights.delay=0,5,10 (repeatable: every combination).")
@_SET
@_POLICY
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write each setting's plan.json under OUT/<nn>_<setting>/ (default: write nothing).")
@click.option("--workers", type=int, default=None, help="Parallel solver processes (default: CPU count).")
@click.option("--no-cache", is_flag=True, help="Solve every unit again instead of taking unchanged ones from the cache.")
@click.option("--json", "as_json", is_flag=True, help="Print the settings and their figures as JSON.")
def tune_cmd(data, week, districts, sweeps, settings, policy_file, out, workers, no_cache, as_json) -> None:
    """Plan some sites under each value of the swept weights and print the reach/delay/spread frontier.

    One row per combination of the swept values (on top of the dataset's policy, --policy and
    --set): listener-plays, people reached at least once, priority-weighted reach, minutes the
    deferred relays air late, repeats of a segment on consecutive days, dayparts per segment and
    topics per site. A setting that another beats or equals on every figure (and beats on one)
    is marked dominated; the rest is the frontier to choose weights from (see README, "Choosing
    weights"). Every plan is verified; nothing is written unless --out.

    \b
    Example:
        loa tune --data data/gia_lai_2024 --week 2024-W10 --district chu-se --sweep weights.delay=0,2,10,50
        loa tune --data data/gia_lai_2024 --week 2024-W10 --district chu-se \\
                 --sweep weights.spread_days=0,500 --sweep weights.delay=0,10 --json
    """
    import json

    from .pipeline import check_week, prepare_dataset, select_sites
    from .solver.cache import SolutionCache
    from .tune import format_tune, sweep_variants, tune, tune_rows

    week = check_week(week)
    dataset = prepare_dataset(data, policy_file, settings)
    site_ids = select_sites(dataset, districts)
    variants = sweep_variants(dataset, sweeps)
    with click.progressbar(length=1, label="Settings", file=sys.stderr, show_pos=True,
                           item_show_func=lambda s: " ".join(s) if s else "") as bar:
        def progress(done: int, total: int, setting: tuple[str, ...]) -> None:
            bar.length = total
            bar.update(1, setting)

        points = tune(variants, week, site_ids, workers=workers,
                      cache=None if no_cache else SolutionCache.default(), out=out, progress=progress)
    if as_json:
        click.echo(json.dumps({"week": week, "districts": list(districts), "sites": len(site_ids or ()),
                               "settings": tune_rows(points)}, ensure_ascii=False, indent=1))
    else:
        click.echo(f"week {week}, {', '.join(districts)}: {len(site_ids or ())} sites, {len(points)} settings")
        click.echo(format_tune(points))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
