"""``attention-atlas export EXAMPLE_ID --format html|png|svg --out PATH``: one example for a
slide, built by :mod:`dashboard.export.standalone` (standalone HTML) and
:mod:`dashboard.export.static` (PNG / SVG). Reads the store read-only; writes ``--out`` only once
the export is built, so a failed export leaves no half-written file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, overload

import click

from attention_atlas.db.cli_common import DB_OPTION, fail, open_engine

if TYPE_CHECKING:  # the export modules (plotly, the store) load when the command runs
    from attention_atlas.dashboard.export.standalone import ExampleExport, ExportOptions

FORMATS = ("html", "png", "svg")


@overload
def _int(text: str, what: str) -> int: ...
@overload
def _int(text: str | None, what: str) -> int | None: ...
def _int(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        fail(f"{what} must be a whole number, got {text!r}")


def _methods(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(dict.fromkeys(m.strip() for m in text.split(",") if m.strip())) or None


def _check_out(out: str) -> Path:
    """``--out`` must be a file path in a folder we can write to."""
    path = Path(out).expanduser()
    if path.is_dir():
        fail(f"--out {out} is a folder; give a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        fail(f"cannot write {out}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        fail(f"cannot write {out}: permission denied")
    return path


@click.command()
@click.argument("example_id")
@DB_OPTION
@click.option("--format", "fmt", default="html", show_default=True, help="html, png or svg.")
@click.option("--out", required=True, help="File to write.")
@click.option("--methods", help="Comma-separated methods to show. Default: every stored one.")
@click.option("--layer", help="Attention heatmap and head-grid layer (0-based). Default: mean.")
@click.option("--head", help="Attention heatmap head (0-based). Default: mean.")
def export(
    example_id: str,
    db_url: str | None,
    fmt: str,
    out: str,
    methods: str | None,
    layer: str | None,
    head: str | None,
) -> None:
    """Export one example for slides: a standalone HTML file (opens offline) or a PNG / SVG
    picture of its tokens per method, attention heatmap, head grid and deletion curve."""
    from attention_atlas.dashboard.export.standalone import ExportError, export_options, load_export
    from attention_atlas.db.engine import session_factory

    fmt = fmt.lower()
    if fmt not in FORMATS:
        fail(f"unknown --format {fmt!r}; use one of {', '.join(FORMATS)}")
    number = _int(example_id, "EXAMPLE_ID")
    path = _check_out(out)
    engine = open_engine(db_url)
    with session_factory(engine)() as session:
        data = load_export(session, number)
    if data is None:
        fail(f"there is no example with id {example_id} in this database")
    try:
        options = export_options(
            data, _methods(methods), _int(layer, "--layer"), _int(head, "--head")
        )
        content = _build(data, options, fmt)
        path.write_bytes(content)
    except (ExportError, OSError) as exc:
        fail(str(exc))
    click.echo(f"example {number} -> {path} ({len(content) / 1e6:.1f} MB {fmt})")


def _build(data: ExampleExport, options: ExportOptions, fmt: str) -> bytes:
    if fmt == "html":
        from attention_atlas.dashboard.export.standalone import standalone_html

        return standalone_html(data, options).encode("utf-8")
    from attention_atlas.dashboard.export.static import render_image, slide_figure

    return render_image(slide_figure(data, options), fmt)
