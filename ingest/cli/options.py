"""The ingest settings table as click options: one option per :class:`IngestSettings` field
(flag, kind, default, help and ``ATLAS_*`` variable from the field's metadata), and the way back
from option values to settings. ``ingest`` uses every field; ``sanity`` all but the few it sets
itself."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import MISSING, fields
from typing import Any

import click

from attention_atlas.ingest.settings import IngestSettings, option_envvar, parse_methods


def _shown_default(value: Any) -> str | bool:
    """A str default escaped, so --help shows the prompt's newline as \\n, not a folded line."""
    return value.encode("unicode_escape").decode() if isinstance(value, str) else True


def setting_options(
    exclude: Collection[str] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator adding one click option per IngestSettings field not in ``exclude``."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for f in reversed(fields(IngestSettings)):
            if f.name not in exclude:
                command = click.option(f.metadata["flag"], f.name, **_option_kwargs(f))(command)
        return command

    return decorate


def _option_kwargs(f: Any) -> dict[str, Any]:
    meta = f.metadata
    kind = meta["kind"]
    kwargs: dict[str, Any] = {"help": meta["help"], "envvar": option_envvar(f), "show_envvar": True}
    if kind == "flag":
        kwargs["is_flag"] = True
    elif kind == "int":
        kwargs["type"] = click.INT
    elif kind == "float":
        kwargs["type"] = click.FLOAT
    elif kind == "choice":
        kwargs["type"] = click.Choice(meta["choices"])
    if meta.get("required"):
        kwargs["required"] = True
    elif f.default is not MISSING and f.default is not None and kind != "list":
        kwargs["default"] = f.default
        kwargs["show_default"] = _shown_default(f.default)
    elif kind == "list" and f.default not in (MISSING, None):
        kwargs["show_default"] = ",".join(f.default)
    return kwargs


def settings_from_options(options: dict[str, Any]) -> IngestSettings:
    """CLI option values -> IngestSettings (comma lists split, methods checked; fields absent
    from ``options`` keep their defaults)."""
    values: dict[str, Any] = {}
    for f in fields(IngestSettings):
        value = options.get(f.name)
        if f.name == "methods":
            value = parse_methods(value)
        elif f.metadata["kind"] == "list":
            if value is None:
                continue
            value = tuple(part for part in value.split(",") if part.strip())
        elif value is None and f.default is not MISSING:
            continue
        values[f.name] = value
    return IngestSettings(**values)
