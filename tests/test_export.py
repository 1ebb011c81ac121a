"""``attention-atlas export``: the standalone HTML (no external reference, every panel), PNG and
SVG built from the page's figure builders, and one line with exit code 2 for bad input."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from plotly.offline import get_plotlyjs
from support.browser import CHROMIUM
from support.dash_fixtures import build_store
from test_cli_errors import assert_user_error

from attention_atlas.dashboard.export.standalone import (
    ExportError,
    export_options,
    load_export,
    standalone_html,
)
from attention_atlas.dashboard.export.static import slide_figure
from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.ingest.cli import main
from attention_atlas.models import vocabulary

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def outside_plotly_js(html: str) -> str:
    """``html`` without the inlined plotly.js bundle (whose map layers name tile servers that
    a heatmap never loads; the browser test checks that nothing is fetched)."""
    bundle = get_plotlyjs()
    assert html.count(bundle) == 1, "plotly.js is inlined exactly once"
    return html.replace(bundle, "")


METHODS = list(vocabulary.one_stack_method_ids())  # the synthetic store computes each


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url, _ = build_store(tmp_path_factory.mktemp("export"), n_examples=8)
    return url


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def loaded(store: str, example_id: int):
    with session_factory(make_engine(store))() as session:
        return load_export(session, example_id)


def tracks(html: str) -> list[str]:
    """The methods of the export's tracks, in order (each wrapped line repeats them)."""
    return list(dict.fromkeys(re.findall(r'class="tok-row" data-method="([a-z_]+)"', html)))


def test_export_text_shows_markup_as_line_breaks() -> None:
    from attention_atlas.dashboard.display_text import html_text

    assert html_text("Great.<br /><br />Not <i>bad</i> & <b>fun</b>") == (
        "Great.<br><br>Not bad &amp; fun"
    )


def test_html_is_standalone_with_every_panel(store: str) -> None:
    export = loaded(store, 3)
    html = standalone_html(export, export_options(export, layer=1, head=2))
    own = outside_plotly_js(html)
    assert EXTERNAL.search(own) is None, EXTERNAL.search(own)
    assert own.count("Plotly.newPlot") == 3
    for div in ("export-attention", "export-head_grid", "export-deletion"):
        assert f'id="{div}"' in html
    assert tracks(html) == METHODS
    assert "layer 1, head 2" in html and "Head \\u03c1 with ig" in html  # JSON-escaped
    assert f"Example {export.detail.id}" in html and export.run.name in html


def test_methods_option_limits_rows_and_curves(store: str) -> None:
    export = loaded(store, 4)
    html = standalone_html(export, export_options(export, ("shap", "ig")))
    assert tracks(html) == ["ig", "shap"]
    figure = slide_figure(export, export_options(export, ("shap", "ig")))
    curves = [t["name"] for t in figure["data"] if t["type"] == "scatter"]
    assert curves == ["ig", "shap", "random"]
    token_rows = [t["name"] for t in figure["data"] if t["xaxis"] == "x1"]
    assert token_rows == ["ig", "shap"]


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ({"methods": ("ig", "nope")}, "method(s) nope not stored"),
        ({"layer": 2}, "--layer 2 is out of range: 0 to 1"),
        ({"head": -1}, "--head -1 is out of range: 0 to 2"),
    ],
)
def test_options_outside_the_example_are_refused(store: str, choice: dict, message: str) -> None:
    with pytest.raises(ExportError, match=re.escape(message)):
        export_options(loaded(store, 2), **choice)


def test_slide_figure_puts_each_panel_on_its_own_axes(store: str) -> None:
    figure = slide_figure(loaded(store, 5), export_options(loaded(store, 5), layer=0, head=1))
    layout = figure["layout"]
    axes = sorted(k for k in layout if re.fullmatch(r"[xy]axis\d+", k))
    assert axes == [f"{a}axis{n}" for a in "xy" for n in range(1, 5)]
    used = {(t["xaxis"], t["yaxis"]) for t in figure["data"]}
    assert used == {(f"x{n}", f"y{n}") for n in range(1, 5)}
    tops = [layout[f"yaxis{n}"]["domain"][1] for n in (1, 2, 4)]
    assert tops == sorted(tops, reverse=True)  # tokens above heatmaps above the curve
    selected = [s for s in layout["shapes"] if s["xref"] == "x3"]
    assert selected and selected[0]["x0"] == 0.5 and selected[0]["y0"] == -0.5  # head 1, layer 0


def test_slide_figure_names_the_labels_and_no_click_hint(store: str) -> None:
    """A picture cannot be clicked: no "click a column" hint; it shows what the HTML export's
    summary line shows, the gold label and the prediction with its probability."""
    export = loaded(store, 5)
    figure = slide_figure(export, export_options(export, layer=0, head=1))
    texts = [figure["layout"]["title"]["text"]]
    texts += [note["text"] for note in figure["layout"]["annotations"]]
    assert texts[1:] and not [t for t in texts if "click" in t.lower()]
    detail = export.detail
    names, title = detail.label_names, texts[0]
    assert f"Gold: {names[detail.label]}" in title
    assert f"Prediction: {names[detail.prediction]} (p = {detail.confidence:.3f})" in title


def test_cli_writes_a_standalone_html_file(store: str, tmp_path: Path) -> None:
    out = tmp_path / "slide.html"
    result = invoke("export", "3", "--db", store, "--out", str(out), "--layer", "0")
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "layer 0, head mean" in html and EXTERNAL.search(outside_plotly_js(html)) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999"], "no example with id 999"),
        (["x1"], "EXAMPLE_ID must be a whole number"),
        (["3", "--format", "gif"], "unknown --format 'gif'"),
        (["3", "--methods", "ig,made_up"], "made_up not stored"),
        (["3", "--layer", "7"], "--layer 7 is out of range"),
        (["3", "--head", "two"], "--head must be a whole number"),
    ],
)
def test_cli_bad_input_is_one_line(store: str, tmp_path: Path, args: list, message: str) -> None:
    out = tmp_path / "out.html"
    assert_user_error(invoke("export", *args, "--db", store, "--out", str(out)), message)
    assert not out.exists()


def test_cli_unwritable_out_is_one_line(store: str, tmp_path: Path) -> None:
    missing = tmp_path / "no-folder" / "x.svg"
    result = invoke("export", "3", "--db", store, "--out", str(missing), "--format", "svg")
    assert_user_error(result, "folder", "does not exist")
    result = invoke("export", "3", "--db", store, "--out", str(tmp_path))
    assert_user_error(result, "is a folder")


def test_cli_missing_database_is_one_line(tmp_path: Path) -> None:
    result = invoke("export", "1", "--db", str(tmp_path / "none.db"), "--out", "x.html")
    assert_user_error(result, "does not exist")


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing")
def test_cli_png_and_svg_are_drawn_from_the_same_figure(store: str, tmp_path: Path) -> None:
    svg, png = tmp_path / "slide.svg", tmp_path / "slide.png"
    common = ("--db", store, "--methods", "ig,shap,attention", "--layer", "1", "--head", "0")
    assert invoke("export", "6", *common, "--format", "svg", "--out", str(svg)).exit_code == 0
    assert invoke("export", "6", *common, "--format", "png", "--out", str(png)).exit_code == 0
    text = svg.read_text()
    assert text.startswith("<svg") and 'width="1400"' in text
    for title in ("Tokens per method", "layer 1, head 0", "Head ρ with ig", "Deletion curve"):
        assert title in text, title
    tokens = loaded(store, 6).detail.tokens
    assert sum(f">{t}<" in text for t in tokens[1:-1]) >= len(tokens) // 2  # token cell texts
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    assert width == 2800 and height > 2000  # 1400 px at 2x
