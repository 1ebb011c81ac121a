"""The structure the code relies on: import directions and no cycles (``.importlinter``), and
one vocabulary of methods that every part reads (a method added there shows up everywhere)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from attention_atlas.dashboard import urlstate
from attention_atlas.dashboard.figures import charts as figures
from attention_atlas.ingest import settings as ingest_settings
from attention_atlas.ingest.cli import main
from attention_atlas.ingest.methods import registry
from attention_atlas.ingest.methods.base import Method, NoParams
from attention_atlas.models import vocabulary
from attention_atlas.models.vocabulary import MethodInfo

ROOT = Path(__file__).resolve().parents[1]
FAKE = MethodInfo(
    "fake_method",
    "Fake",
    signed=True,
    default=False,
    color="#123456",
    paper="nobody 2026",
    summary="a method that exists only in this test",
    head_reference=True,
)


def test_import_contracts_hold() -> None:
    """dashboard/ingest -> db -> models, no ML stack on the read side, no cycles."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.fixture
def fake_vocabulary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vocabulary, "METHODS", (*vocabulary.METHODS, FAKE))


@pytest.mark.usefixtures("fake_vocabulary")
def test_a_vocabulary_entry_reaches_every_reader() -> None:
    # the CLI's --methods parsing and its error message
    assert ingest_settings.parse_methods("attention,fake_method") == ("attention", "fake_method")
    with pytest.raises(ingest_settings.SettingsError, match="fake_method"):
        ingest_settings.parse_methods("nonsense")
    # the URL codec: pairs and the head-grid reference accept it
    corpus = urlstate.CorpusState.parse("pair=fake_method,attention")
    assert corpus.pair == ("attention", "fake_method")
    assert urlstate.HeadsState.parse("ref=fake_method").ref == "fake_method"
    assert urlstate.ExampleState.parse("ref=fake_method").ref == "fake_method"
    # figures colour it with its own colour
    deletion = figures.deletion_curves({"fake_method": [0.9, 0.5]})
    assert deletion["data"][0]["line"]["color"] == "#123456"
    # the registry notices that nothing computes it
    with pytest.raises(registry.RegistryError, match="fake_method"):
        registry.check_registry()


@pytest.mark.usefixtures("fake_vocabulary")
def test_registry_check_passes_once_the_method_is_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compute = {**registry.COMPUTE, "fake_method": Method("fake_method", lambda *a: [], NoParams)}
    monkeypatch.setattr(registry, "COMPUTE", compute)
    registry.check_registry()
    settings = replace(ingest_settings.IngestSettings(), methods=("fake_method", "ig"))
    from attention_atlas.ingest.batch import plan_for

    assert plan_for(settings).methods == ("ig", "fake_method")  # the vocabulary's order


def test_unknown_values_fall_back_without_the_fake() -> None:
    """Without the entry the same URL values are rejected (the test above is not vacuous)."""
    assert urlstate.CorpusState.parse("pair=fake_method,attention").pair == vocabulary.DEFAULT_PAIR
    assert urlstate.HeadsState.parse("ref=fake_method").ref == vocabulary.default_reference()


def test_cli_help_lists_the_vocabulary() -> None:
    text = CliRunner().invoke(main, ["ingest", "--help"], terminal_width=200).output
    for method_id in vocabulary.method_ids():
        assert method_id in text
    assert vocabulary.SHAP_EVALS_RULE in text


def test_every_setting_a_method_reads_exists_and_is_recorded() -> None:
    """Each method's parameters come from IngestSettings by attribute (a renamed setting
    raises here) and every recorded key appears in the run's provenance."""
    from attention_atlas.ingest.batch import plan_for

    settings = replace(ingest_settings.IngestSettings(), methods=vocabulary.method_ids())
    plan = plan_for(settings)
    provenance = plan.provenance()
    for method_id, params in plan.params.items():
        for key in type(params).RECORDED.values():
            assert key in provenance, (method_id, key)
    run_settings = settings.run_settings()
    shared = set(provenance) & set(run_settings)
    assert shared >= {"ig_steps", "ig_baseline", "shap_evals", "flow_max_tokens"}
    assert all(provenance[k] == run_settings[k] for k in shared)


def test_pyproject_lists_every_package_of_the_tree() -> None:
    """The wheel's package list is explicit (the checkout root is mapped to attention_atlas):
    a new subpackage missing from it would be left out of the wheel, silently."""
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    in_tree = {
        "attention_atlas." + ".".join(init.parent.relative_to(ROOT).parts)
        for folder in ("models", "db", "ingest", "dashboard")
        for init in (ROOT / folder).rglob("__init__.py")
    }
    assert in_tree - listed == set(), "packages missing from pyproject's [tool.setuptools] list"
