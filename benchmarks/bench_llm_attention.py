"""Benchmark: LLM-sized attention (issue 21). A random LlamaForSequenceClassification with
Llama-7B-shaped attention (32 layers, 32 query heads, 8 key/value heads; hidden size 256, so
head_dim 8: attention memory does not depend on the hidden size) at 512 tokens, eager
attention, on the CPU.

1. Peak memory of the batch's forward pass, each in a fresh subprocess (peak RSS over the
   RSS after loading the model and a warm-up pass):
   - ``before``: main's path until issue 21, ``output_attentions=True`` (every layer's
     [B, H, T, T] held until the pass ends) and the records' float32 stack of them;
   - ``after``: ``ingest.attention_hooks.captured_forward`` with the default methods' capture
     (prediction rows, the running rollout product, every head's role stats), each layer's
     matrix freed as the next layer runs.
   Printed with the ratio before / after, measured in the same run.
2. Bytes stored per example for ``--attention-rows all``, ``last`` and ``none``: the real
   ``attention-atlas ingest`` into SQLite (``--methods none`` by default: predictions and
   attention, the part the knob governs; ``--methods`` to add others), per table from SQL
   ``length()`` of every stored column (SQLite's page and index overhead left out).

Usage: python benchmarks/bench_llm_attention.py [--tokens 512] [--batch-size 1] [--n 2]
    [--layers 32] [--heads 32] [--kv-heads 8] [--methods none] [--choices all,last,none]
    [--extra "--ig-steps 2 --shap-evals 64"] [--no-forward]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WORDS = (
    "the a movie film plot story was is not bad good great long slow fast acting music scene "
    "end start actor director cast funny sad dull smart best worst ever one two three"
).split()
MB = 1024 * 1024
TABLES = ("examples", "attention", "attributions", "agreements", "head_scores", "faithfulness")


def save_model(folder: Path, layers: int, heads: int, kv_heads: int, head_dim: int) -> None:
    """The random Llama classifier and a WordPiece tokenizer of :data:`WORDS` (one token per
    word), saved as a checkpoint folder ingest can load."""
    import torch
    from transformers import BertTokenizerFast, LlamaConfig, LlamaForSequenceClassification

    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast.from_pretrained(str(folder))
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=heads * head_dim,
        intermediate_size=2 * heads * head_dim,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=4096,
        pad_token_id=tokenizer.pad_token_id,
        num_labels=2,
        id2label={0: "negative", 1: "positive"},
        label2id={"negative": 0, "positive": 1},
    )
    LlamaForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def text_of(tokens: int, seed: int) -> str:
    """A text that encodes to at least ``tokens`` tokens (one per word, plus specials)."""
    return " ".join(WORDS[(seed * 7 + 3 * j) % len(WORDS)] for j in range(tokens))


# -- 1. peak memory of the forward pass (child processes) -------------------------------------
def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(variant: str, folder: str, tokens: int, batch_size: int) -> None:
    """One forward pass of ``variant``; prints {"peak_mb": RSS rise over the loaded model}."""
    import torch

    from attention_atlas.ingest.attention_hooks import captured_forward
    from attention_atlas.ingest.batch import method_needs, plan_for
    from attention_atlas.ingest.loading import LoadRequest, load_adapter
    from attention_atlas.ingest.settings import IngestSettings

    torch.set_num_threads(1)
    adapter = load_adapter(LoadRequest(folder, max_length=tokens, device="cpu"), None)
    items = [adapter.encode(text_of(tokens, b)) for b in range(batch_size)]
    assert all(i.length == tokens for i in items), [i.length for i in items]
    batch = adapter.collate(items)
    spec = method_needs(plan_for(IngestSettings()), adapter)  # the default methods' capture
    warm = adapter.collate([adapter.encode(text_of(8, 0))])
    captured_forward(adapter, warm, [adapter.encode(text_of(8, 0))], spec)  # finds the hooks
    with torch.no_grad():
        adapter.forward(warm, output_attentions=True, output_hidden=True)
    base = peak_rss_mb()
    if variant == "before":
        with torch.no_grad():
            forward = adapter.forward(batch, output_attentions=True, output_hidden=True)
        assert forward.attentions is not None
        stacked = torch.stack([a.detach().float() for a in forward.attentions], dim=1).cpu()
        assert stacked.shape[1] == adapter.num_layers
    else:
        captured_forward(adapter, batch, items, spec)
    print(json.dumps({"peak_mb": peak_rss_mb() - base, "base_mb": base}))


def measure_forward(folder: Path, tokens: int, batch_size: int) -> dict[str, float]:
    out = {}
    for variant in ("before", "after"):
        command = [sys.executable, __file__, "--child", variant, "--folder", str(folder)]
        command += ["--tokens", str(tokens), "--batch-size", str(batch_size)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        out[variant] = json.loads(result.stdout.strip().splitlines()[-1])["peak_mb"]
    return out


# -- 2. bytes stored per example ---------------------------------------------------------------
def ingest(
    folder: Path, work: Path, choice: str, n: int, tokens: int, methods: str, extra: str
) -> Path:
    corpus = work / "corpus.jsonl"
    corpus.write_text(
        "".join(json.dumps({"text": text_of(tokens, i), "label": i % 2}) + "\n" for i in range(n))
    )
    db = work / f"{choice}.db"
    db.unlink(missing_ok=True)
    cli = Path(sys.executable).with_name("attention-atlas")
    command = [str(cli), "ingest", "-q", "--model", str(folder), "--dataset", str(corpus)]
    command += ["--label-field", "label", "--db", str(db), "--run", choice, "--device", "cpu"]
    command += ["--max-length", str(tokens), "--methods", methods, "--batch-size", "1"]
    command += ["--threads", "1", "--attention-rows", choice, *extra.split()]
    subprocess.run(command, check=True)
    return db


def stored_bytes(db: Path) -> dict[str, int]:
    """table -> bytes of every stored value (SQL ``length()``), over the store's examples."""
    import sqlite3

    connection = sqlite3.connect(db)
    out = {}
    for table in TABLES:
        columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
        total = " + ".join(f'coalesce(length("{c}"), 0)' for c in columns)
        out[table] = int(connection.execute(f"SELECT sum({total}) FROM {table}").fetchone()[0] or 0)
    connection.close()
    return out


def measure_storage(folder: Path, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for choice in args.choices.split(","):
            db = ingest(folder, Path(tmp), choice, args.n, args.tokens, args.methods, args.extra)
            per_table = {t: b / args.n for t, b in stored_bytes(db).items()}
            out[choice] = per_table | {"total": sum(per_table.values())}
    return out


def report(args: argparse.Namespace, memory: dict[str, float], storage: dict) -> None:
    shape = f"{args.layers} layers x {args.heads} heads ({args.kv_heads} KV) x {args.tokens} tokens"
    held = args.layers * args.heads * args.tokens**2 * 4 * args.batch_size / MB
    print(f"Llama-shaped attention, {shape}, batch {args.batch_size}, eager, CPU fp32")
    print(f"  every layer's attention: {held:.0f} MiB (float32)")
    print("forward pass, peak RSS over the loaded model (fresh process each):")
    print(f"  before (all layers held + records' stack): {memory['before']:8.0f} MiB")
    print(f"  after  (hooks, layer by layer):            {memory['after']:8.0f} MiB")
    print(f"  ratio before / after: {memory['before'] / max(memory['after'], 1e-9):.1f}x")
    print(f"bytes stored per example (--methods {args.methods}; SQL length() of every value):")
    print(f"  {'--attention-rows':<17}" + "".join(f"{t:>13}" for t in (*TABLES, "total")))
    for choice, sizes in storage.items():
        cells = "".join(f"{sizes[t] / 1000:>10.1f} kB" for t in (*TABLES, "total"))
        print(f"  {choice:<17}{cells}")
    if "all" in storage and "last" in storage:
        all_, last = storage["all"]["attention"], storage["last"]["attention"]
        print(f"  attention table, all / last: {all_ / max(last, 1):.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--n", type=int, default=2, help="examples ingested per choice")
    parser.add_argument("--layers", type=int, default=32)
    parser.add_argument("--heads", type=int, default=32)
    parser.add_argument("--kv-heads", type=int, default=8)
    parser.add_argument("--head-dim", type=int, default=8)
    parser.add_argument("--methods", default="none", help="--methods of the storage ingests")
    parser.add_argument("--choices", default="all,last,none", help="--attention-rows values")
    parser.add_argument("--extra", default="", help="more ingest options, e.g. '--ig-steps 2'")
    parser.add_argument("--no-forward", action="store_true", help="storage only")
    parser.add_argument("--child", choices=("before", "after"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.folder, args.tokens, args.batch_size)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "llama-7b-attention"
        save_model(folder, args.layers, args.heads, args.kv_heads, args.head_dim)
        memory = {} if args.no_forward else measure_forward(folder, args.tokens, args.batch_size)
        storage = measure_storage(folder, args)
    report(args, memory, storage)


if __name__ == "__main__":
    main()
