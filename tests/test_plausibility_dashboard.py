"""Plausibility on the pages, called directly on a synthetic store holding a run with
rationales and one without: the rationale track and the per-method scores on the example
page, the plausibility view on the faithfulness page, the corpus page's plausibility filter
and sort, every control in the URL; and no plausibility panel at all for the run without."""

from __future__ import annotations

import pytest

from attention_atlas.dashboard import ids
from attention_atlas.dashboard.server.app import create_app
from attention_atlas.db.engine import make_engine
from attention_atlas.db.synthetic import fill_synthetic_store
from attention_atlas.models import vocabulary


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from support.dash_fixtures import build_store

    url, plain = build_store(tmp_path_factory.mktemp("plausibility-pages"), 30)
    engine = make_engine(url)
    rich = fill_synthetic_store(engine, 30, 2, 3, 8, 40, 11, run_name="rationales",
                                rationales=True)  # fmt: skip
    engine.dispose()
    return url, plain, rich


@pytest.fixture(scope="module")
def app(store):
    return create_app(store[0])


@pytest.fixture
def ctx(app):
    with app.server.test_request_context("/"):
        yield


def _example_ids(app, run_id: int) -> list[int]:
    from attention_atlas.dashboard.data.service import service_of

    data = service_of(app.server)
    return data.corpus(data.run(run_id)).ids.tolist()


def test_example_page_shows_the_rationale_and_plausibility(app, store, ctx) -> None:
    from attention_atlas.dashboard.pages import example

    _, plain, rich = store
    marked = [i for i in _example_ids(app, rich) if i % 5][0]
    page = str(example.layout(example_id=str(marked), run=str(rich)))
    assert 'data-method="rationale"' in page  # its own track, above the methods
    assert page.index('data-method="rationale"') < page.index('data-method="attention"')
    assert 'class="ov-name">rationale<' in page  # and in the overview strip
    assert ids.EX_RATIONALE_NOTE in page and ids.EX_SCORES in page
    assert "AUPRC ↑" in page and "comprehensiveness ↑" in page
    unmarked = [i for i in _example_ids(app, rich) if i % 5 == 0][0]
    page = str(example.layout(example_id=str(unmarked)))
    assert 'data-method="rationale"' not in page and "AUPRC" not in page
    page = str(example.layout(example_id=str(_example_ids(app, plain)[0])))
    assert "rationale" not in page and "AUPRC" not in page and "comprehensiveness ↑" in page


def test_the_callback_keeps_the_rationale_track(app, store, ctx) -> None:
    from attention_atlas.dashboard.pages import example

    marked = [i for i in _example_ids(app, store[2]) if i % 5][0]
    tracks, *_ = example.update_example(marked, "", "word", [], -1, -1, "ig", None)
    assert 'data-method="rationale"' in tracks


def test_faithfulness_page_plausibility_view(app, store, ctx) -> None:
    from attention_atlas.dashboard.pages import faithfulness

    _, plain, rich = store
    page = str(faithfulness.layout(run=str(rich)))
    assert ids.FA_PLAUS in page and ids.FA_PLAUS_FIG in page and "random order" in page
    assert ids.FA_PLAUS not in str(faithfulness.layout(run=str(plain)))
    figure, table, search = faithfulness.update_plausibility(
        "token_f1", "sufficiency", f"?run={rich}"
    )
    assert "pfaith=sufficiency" in search and "pmeasure=token_f1" in search
    names = [trace["name"] for trace in figure["data"]]
    assert names[-1] == vocabulary.label_of("random") and "IG" in names
    assert all(trace["error_y"]["visible"] for trace in figure["data"])
    assert "token F1" in figure["layout"]["yaxis"]["title"]["text"]
    assert table  # the table's head and body
    after = str(faithfulness.layout(**dict(p.split("=") for p in search[1:].split("&"))))
    assert "value='sufficiency', inline=True, id='faithfulness-pfaith'" in after


def test_corpus_page_filters_and_sorts_by_plausibility(app, store, ctx) -> None:
    from attention_atlas.dashboard.pages import corpus

    _, plain, rich = store

    def controls(**values):
        base = {key: None for _, key in corpus.FILTER_INPUTS} | {"run": rich}
        return [(base | values)[key] for _, key in corpus.FILTER_INPUTS]

    everything, *_ = corpus.update_table(*controls(), None)
    rows, _, _, _, search = corpus.update_table(
        *controls(pmin="attention:0.4", pmax="ig:0.9", pmethod="ig", sort="plaus", desc=[1]),
        None,
    )
    assert 0 < len(rows) < len(everything)
    assert "pmin=attention:0.4" in search and "pmax=ig:0.9" in search and "sort=plaus" in search
    values = [r["plaus"] for r in rows]
    assert values == sorted(values, reverse=True) and max(values) <= 0.9
    shown = str(corpus.layout(run=str(rich)))
    hidden = str(corpus.layout(run=str(plain)))
    assert "'field': 'plaus'" in shown and "'field': 'plaus'" not in hidden
    fields = f"id='{ids.CO_PLAUS}', className='field', style={{'display': 'none'}}"
    assert fields in hidden and fields not in shown
    assert corpus.show_plausibility(rich)[0] is None
    assert corpus.show_plausibility(plain)[0] == {"display": "none"}


def test_hostile_plausibility_urls_are_not_errors(app, store) -> None:
    client = app.server.test_client()
    rich = store[2]
    for path in (
        f"/?run={rich}&pmin=attention:abc&pmax=zz:1&pmethod=<b>&pmeasure=x&sort=plaus",
        f"/?run={rich}&pmin=attention:1e999,ig:-0.5&pmethod=random",
        f"/faithfulness?run={rich}&pfaith=nope&pmeasure=iou_f1&pmin=ig:0.2",
        "/example/3?pmin=,,,:&pmax=ig:nan",
    ):
        assert client.get(path).status_code == 200, path


def test_the_html_export_carries_the_rationale_track(app, store) -> None:
    from attention_atlas.dashboard.data.service import service_of
    from attention_atlas.dashboard.export.standalone import (
        ExportOptions,
        load_export,
        token_rows_html,
    )

    marked = [i for i in _example_ids(app, store[2]) if i % 5][0]
    with service_of(app.server).session() as session:
        rich = load_export(session, marked)
        plain = load_export(session, _example_ids(app, store[1])[0])
    assert 'data-method="rationale"' in token_rows_html(rich, ExportOptions())
    assert 'data-method="rationale"' not in token_rows_html(plain, ExportOptions())
