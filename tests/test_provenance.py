"""The dashboard tells a reader how a run was computed, from the settings ingest records."""

from __future__ import annotations

from dataclasses import fields, replace

import pytest
from support.dash_fixtures import build_store

from attention_atlas.dashboard.provenance import settings_rows, summary_parts
from attention_atlas.dashboard.server.app import create_app
from attention_atlas.ingest.batch import plan_for
from attention_atlas.ingest.settings import IngestSettings


def _run_settings(**overrides) -> dict:
    """Settings as the pipeline records them: the plan's provenance plus ingest fields."""
    names = {f.name for f in fields(IngestSettings)}
    chosen = {k: overrides.pop(k) for k in list(overrides) if k in names}
    ingest = replace(IngestSettings(), methods=("attention", "ig", "shap"), **chosen)
    settings = plan_for(ingest).provenance() | ingest.run_settings()
    return settings | {"effective_max_length": 128} | overrides


def test_summary_names_every_choice_that_changes_how_scores_read() -> None:
    line = " · ".join(summary_parts(_run_settings(ig_steps=300, ig_baseline="pad")))
    assert "predicted class's prob" in line
    assert "IG 300 steps gausslegendre, pad baseline on content tokens only" in line
    assert "SHAP partition max(500, 2·tokens+1) evaluations" in line
    assert "removal: mask token, else pad" in line and "max 128 tokens" in line
    assert "RANDOMIZED" not in line and "zero-shot" not in line


def test_summary_says_where_the_ig_baseline_applies() -> None:
    assert "zero baseline on content tokens only" in " ".join(summary_parts(_run_settings()))
    literal = " ".join(summary_parts(_run_settings(ig_baseline="zero-all")))
    assert "zero-all baseline on every position" in literal
    # a run stored before the distinction recorded "zero" for the all-positions baseline
    old = _run_settings()
    del old["ig_baseline_positions"]
    assert "zero baseline on every position" in " ".join(summary_parts(old))


def test_summary_flags_sanity_runs_and_explicit_shap_budget() -> None:
    line = " · ".join(
        summary_parts(_run_settings(shap_evals=200, explain_output="logit", randomize_weights=True))
    )
    assert "SHAP partition 200 evaluations" in line
    assert "predicted class's logit" in line
    assert "RANDOMIZED WEIGHTS" in line


def test_prompt_rows_shown_only_for_zero_shot_runs() -> None:
    plain = dict(settings_rows(_run_settings()))
    zero_shot = dict(settings_rows(_run_settings(zero_shot=True)))
    assert "prompt" not in plain and "verbalizers" not in plain
    assert zero_shot["verbalizers"] == "' negative', ' positive'"
    assert plain["ig_steps"] == "50" and plain["shap_evals"] == "—"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    url, run_id = build_store(tmp_path_factory.mktemp("provenance"))
    return create_app(url), run_id


@pytest.mark.parametrize("path", ["/", "/example/2", "/heads", "/faithfulness"])
def test_every_run_page_shows_the_run_settings(app, path: str) -> None:
    with app[0].server.test_request_context("/"):
        from attention_atlas.dashboard.pages import corpus, example, faithfulness, heads

        layout = {
            "/": corpus.layout,
            "/example/2": lambda: example.layout(example_id="2"),
            "/heads": heads.layout,
            "/faithfulness": faithfulness.layout,
        }[path]()
    text = str(layout)
    assert "How this run was computed" in text
    assert "'synthetic'" in text and "fractions" in text  # the synthetic run's own settings


def test_switching_run_updates_title_and_settings(app) -> None:
    dash_app, run_id = app
    with dash_app.server.test_request_context("/"):
        from attention_atlas.dashboard.pages import corpus

        header = corpus.update_header(run_id)
        assert "Corpus: " in str(header[0]) and "fractions" in str(header[1])
        assert corpus.update_header(99999) == []
        assert corpus.update_header("junk") != []  # falls back to the newest run
