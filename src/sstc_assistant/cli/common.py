"""What every command shares: the two consoles, the error a user can fix, settings from options."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from rich.console import Console

from ..settings import Settings
from ..types import Location, human_place

console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

# registers a subcommand: name, handler, help; returns its parser for the command's own options
AddCommand = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


class UserError(Exception):
    """Raised for conditions the user can act on; printed as `error: ...`."""


def settings_for(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "index", None):
        overrides["index"] = args.index
    if getattr(args, "embedder", None):
        overrides["embedder"] = args.embedder
    return Settings(**overrides)


def places(locations: Sequence[Location]) -> str:
    return "; ".join(human_place(loc.doc_id, loc.paragraph, loc.pages) for loc in locations[:5])
