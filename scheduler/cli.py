"""`loa` command line: parse options, call the library, print. Nothing else lives here."""
from __future__ import annotations

import sys

import click

from .errors import LoaError


class LoaGroup(click.Group):
    """Turns every LoaError into a plain message and its exit code: users never see a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except LoaError as exc:
            click.secho(f"Error: {exc}", err=True, fg="red")
            ctx.exit(exc.exit_code)


@click.group(cls=LoaGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="loa-scheduler")
def main() -> None:
    """loa: weekly PAR programmes and relays for commune loudspeaker systems.

    \b
    Example:
        loa validate --data data/gia_lai_2024
        loa plan --data data/gia_lai_2024 --week 2024-W10
    """


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
