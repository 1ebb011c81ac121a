"""``--attention-rows all|last|none``: each stores what it says (the prediction rows and the
full tensor of every layer, of the last layer, of none) while head grids, sink shares and the
attention methods stay those of every layer; the choice is recorded on the run unless it is
the default; and the dashboard, the export and the read API say what a last / none run lacks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from support.cli import ingest_args

from attention_atlas.db.engine import make_engine, session_factory
from attention_atlas.ingest.cli import main
from attention_atlas.models import Attention, Attribution, Example, HeadScore, Run

CHOICES = ("all", "last", "none")
FULL_CAP = 10  # tokens: the tiny corpus has examples on both sides
LAYERS, HEADS = 2, 4  # the tiny BERT


def _ingest(model: Path, corpus: Path, url: str, choice: str) -> None:
    extra = ["--methods", "attention,rollout,ig", "--ig-steps", "4", "--run", choice]
    extra += ["--full-attention-max-tokens", str(FULL_CAP), "--attention-rows", choice]
    args = ingest_args(model, corpus, url, *extra)
    result = CliRunner().invoke(main, [args[0], "-q", *args[1:]], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _stored(url: str, run_name: str) -> dict:
    """source index -> (length, attention row, {method: scores}, {reference: grid})."""
    out: dict = {}
    with session_factory(make_engine(url))() as session:
        run_id = session.scalars(select(Run.id).where(Run.name == run_name)).one()
        examples = session.execute(
            select(Example.id, Example.source_index, Example.length).where(Example.run_id == run_id)
        ).all()
        for example_id, index, length in examples:
            attention = session.get(Attention, example_id)
            scores = dict(
                session.execute(
                    select(Attribution.method, Attribution.scores).where(
                        Attribution.example_id == example_id
                    )
                ).all()
            )
            grids = dict(
                session.execute(
                    select(HeadScore.reference, HeadScore.grid).where(
                        HeadScore.example_id == example_id
                    )
                ).all()
            )
            out[index] = (length, attention, scores, grids)
    return out


@pytest.fixture(scope="module")
def runs(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    from conftest import corpus_rows, write_csv

    folder = tmp_path_factory.mktemp("attention-rows")
    corpus = folder / "corpus.csv"
    write_csv(corpus, corpus_rows(6))
    url = f"sqlite:///{folder / 'atlas.db'}"
    for choice in CHOICES:
        _ingest(tiny_bert_dir, corpus, url, choice)
    return url


def test_each_choice_stores_the_layers_it_names(runs: str) -> None:
    every = _stored(runs, "all")
    assert any(n <= FULL_CAP for n, *_ in every.values())
    assert any(n > FULL_CAP for n, *_ in every.values())
    for choice, layers in (("last", slice(LAYERS - 1, LAYERS)), ("none", slice(0, 0))):
        for index, (n, attention, scores, grids) in _stored(runs, choice).items():
            _, reference, ref_scores, ref_grids = every[index]
            assert reference.rows.shape == (LAYERS, HEADS, n)
            np.testing.assert_array_equal(attention.rows, reference.rows[layers])
            if n <= FULL_CAP and choice == "last":
                np.testing.assert_array_equal(attention.full, reference.full[layers])
            else:
                assert attention.full is None
            # what ingest derives from every layer does not depend on what is stored
            np.testing.assert_array_equal(attention.first_share, reference.first_share)
            np.testing.assert_array_equal(attention.special_share, reference.special_share)
            assert attention.first_share.shape == (LAYERS, HEADS)
            for method in ("attention", "rollout", "ig"):
                np.testing.assert_array_equal(scores[method], ref_scores[method])
            np.testing.assert_array_equal(grids["ig"], ref_grids["ig"])


def test_the_choice_is_recorded_unless_default(runs: str) -> None:
    with session_factory(make_engine(runs))() as session:
        settings = dict(session.execute(select(Run.name, Run.settings)).all())
    assert "attention_rows" not in settings["all"]  # runs stored before the flag keep their id
    assert settings["last"]["attention_rows"] == "last"
    assert settings["none"]["attention_rows"] == "none"


def _example_id(url: str, run_name: str, long: bool) -> int:
    with session_factory(make_engine(url))() as session:
        rows = session.execute(
            select(Example.id, Example.length)
            .join(Run, Run.id == Example.run_id)
            .where(Run.name == run_name)
        ).all()
    return next(i for i, n in rows if (n > FULL_CAP) == long)


@pytest.mark.parametrize("long", [False, True])
def test_dashboard_says_what_a_run_lacks(runs: str, long: bool) -> None:
    from attention_atlas.dashboard.server.app import create_app
    from attention_atlas.dashboard.urlstate import HeadsState

    app = create_app(runs)
    from attention_atlas.dashboard.pages import example, heads  # registered by the app

    client = app.server.test_client()
    with app.server.test_request_context("/"):
        for choice, notice in (("all", None), ("last", "layer 1 is stored"), ("none", "none")):
            number = _example_id(runs, choice, long)
            assert client.get(f"/example/{number}").status_code == 200
            page = str(example.layout(example_id=str(number)))
            assert ("--attention-rows" in page) == (notice is not None)
            # layer 0 asked for: a last run shows its one stored layer, under its own number
            _, heatmap, grid, _ = example.update_example(number, "", "word", [1], 0, 2, "ig", 1)
            heatmap = heatmap if isinstance(heatmap, dict) else heatmap.to_plotly_json()
            title = heatmap["layout"]["title"]["text"] if "title" in heatmap["layout"] else ""
            texts = title + str(heatmap["layout"].get("annotations", ""))
            if notice is None:
                assert heatmap["data"] and "--attention-rows" not in texts
            else:
                assert notice in texts and "--attention-rows" in texts
            if choice == "last":
                assert heatmap["data"] and "layer 0" not in texts
            if choice == "none":
                assert not heatmap["data"]
            assert grid["data"]  # head grids come from every layer at ingest
        grid, _trend, _table = heads.heads_view(HeadsState.parse("?run=3"))
        assert grid["data"][0]["z"] is not None


def test_read_api_names_the_stored_layers(runs: str) -> None:
    from attention_atlas.db.api import open_store
    from attention_atlas.db.api.reader import StoreError

    store = open_store(runs)
    last = store.run("last").attention(_example_id(runs, "last", True))
    assert last.layers.tolist() == [LAYERS - 1] and last.rows.shape[0] == 1
    with pytest.raises(StoreError, match="--attention-rows none"):
        store.run("none").attention(_example_id(runs, "none", True))


def test_export_shows_the_stored_layer_or_the_notice(runs: str) -> None:
    from attention_atlas.dashboard.export.standalone import (
        export_options,
        load_export,
        panel_figures,
    )

    with session_factory(make_engine(runs))() as session:
        for choice, shown in (("last", True), ("none", False)):
            export = load_export(session, _example_id(runs, choice, False))
            assert export is not None
            figures = panel_figures(export, export_options(export, layer=0, head=1))
            attention = figures["attention"]
            texts = str(attention["layout"].get("title", "")) + str(
                attention["layout"].get("annotations", "")
            )
            assert "--attention-rows" in texts and bool(attention["data"]) == shown
