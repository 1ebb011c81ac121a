"""Every setting of ``attention-atlas ingest`` in one frozen dataclass, with defaults and help.

Each field's metadata names its CLI flag, its kind and its help text; the CLI builds its
options from this table (datasette-style) and every option can also come from an ``ATLAS_*``
environment variable (``--batch-size`` <- ``ATLAS_BATCH_SIZE``). Settings that change the stored
numbers make up :meth:`IngestSettings.run_settings`, which is recorded on the run and compared
when a run is resumed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import Field, dataclass, field, fields
from typing import Any

from attention_atlas.ingest.rationales import FORMATS as RATIONALE_FORMATS
from attention_atlas.models import vocabulary

PRECISIONS = ("auto", "fp32", "bf16", "fp16")  # --precision (attention_atlas.ingest.precision)
NO_METHODS = ("", "none")

# settings that never change the stored numbers: excluded from the run's identity
_NOT_RUN_DEFINING = {
    "db",
    "run_name",
    "batch_size",
    "device",
    "threads",
    "workers",
    "ray_address",
    "gpus_per_worker",
    "shard",
}


class SettingsError(ValueError):
    """An invalid combination or value of settings (a user error: exit code 2)."""


def _opt(flag: str, help: str, kind: str = "str", **extra: Any) -> dict[str, Any]:
    return {"flag": flag, "help": help, "kind": kind, **extra}


@dataclass(frozen=True)
class IngestSettings:
    """All choices of one ingest. Lists are tuples; ``None`` means "not given"."""

    checkpoint: str = field(
        default="",
        metadata=_opt("--model", "Checkpoint to run: a hub id or a local folder.", required=True),
    )
    dataset: str = field(
        default="",
        metadata=_opt(
            "--dataset",
            "Corpus: a hub dataset id, a .csv/.tsv/.jsonl/.parquet file, or a folder written "
            "by datasets' save_to_disk.",
            required=True,
        ),
    )
    db: str | None = field(
        default=None,
        metadata=_opt(
            "--db",
            "Database URL (sqlite:///path.db, postgresql+psycopg://...) or a SQLite file path. "
            "Default: $ATLAS_DATABASE_URL, else atlas.db in the working directory.",
            envvar="ATLAS_DATABASE_URL",
        ),
    )
    revision: str | None = field(
        default=None, metadata=_opt("--revision", "Checkpoint revision (branch, tag or commit).")
    )
    split: str | None = field(
        default=None,
        metadata=_opt(
            "--split",
            "Dataset split. Default: 'test' for hub datasets, the only split of a saved folder.",
        ),
    )
    text_field: str = field(
        default="text",
        metadata=_opt(
            "--text-field",
            "Column holding the text; two columns separated by a comma (premise,hypothesis) "
            "for a sentence-pair task, encoded as the tokenizer encodes a pair.",
        ),
    )
    label_field: str | None = field(
        default=None,
        metadata=_opt("--label-field", "Column holding the gold label (optional)."),
    )
    rationale_field: str | None = field(
        default=None,
        metadata=_opt(
            "--rationale-field",
            "Column holding a human rationale per row (see --rationale-format): stored as a "
            "token mask, and every method's plausibility (AUPRC, token F1, IOU F1) against "
            "it. An empty cell or list: no rationale for that row.",
            recorded_when_set=True,
        ),
    )
    rationale_format: str = field(
        default="chars",
        metadata=_opt(
            "--rationale-format",
            "How --rationale-field is written: chars (character indexes, SemEval Toxic "
            "Spans), spans ([start, end) character pairs) or words (whitespace-word indexes, "
            "ERASER).",
            "choice",
            choices=RATIONALE_FORMATS,
            recorded_with="rationale_field",
        ),
    )
    labels: tuple[str, ...] | None = field(
        default=None,
        metadata=_opt(
            "--labels",
            "Comma-separated label names in class order, e.g. neg,pos. Default: the "
            "dataset's ClassLabel names, else the checkpoint's id2label.",
            "list",
        ),
    )
    limit: int | None = field(
        default=None, metadata=_opt("--limit", "Use only the first N examples.", "int")
    )
    sample: int | None = field(
        default=None,
        metadata=_opt("--sample", "Use a random sample of N examples (see --seed).", "int"),
    )
    seed: int = field(
        default=0,
        metadata=_opt(
            "--seed", "Seed for --sample, random baselines and --randomize-weights.", "int"
        ),
    )
    run_name: str | None = field(
        default=None,
        metadata=_opt(
            "--run",
            "Run name. Default: derived from model, dataset, split and a hash of the settings. "
            "Rerunning the same name continues an interrupted run.",
        ),
    )
    batch_size: int = field(default=16, metadata=_opt("--batch-size", "Examples per batch.", "int"))
    max_length: int = field(
        default=512,
        metadata=_opt(
            "--max-length",
            "Truncate texts to this many tokens (capped by the model's maximum positions).",
            "int",
        ),
    )
    full_attention_max_tokens: int = field(
        default=128,
        metadata=_opt(
            "--full-attention-max-tokens",
            "Store the full [layers, heads, tokens, tokens] attention (float16) only for "
            "examples up to this many tokens; prediction-position rows are always stored.",
            "int",
        ),
    )
    attention_rows: str = field(
        default=vocabulary.DEFAULT_ATTENTION_ROWS,
        metadata=_opt(
            "--attention-rows",
            "Which layers' attention each example stores: all (the prediction position's row "
            "of every layer and head), last (the last layer's only: 1/layers of the bytes) or "
            "none. The full tensor up to --full-attention-max-tokens follows the same choice. "
            "Head grids, sink shares and the attention methods use every layer either way.",
            "choice",
            choices=tuple(vocabulary.ATTENTION_ROWS),
            recorded_unless_default=True,
        ),
    )
    device: str = field(
        default="auto",
        metadata=_opt(
            "--device",
            "auto (CUDA when available), cpu or cuda.",
            "choice",
            choices=("auto", "cpu", "cuda"),
        ),
    )
    precision: str = field(
        default="auto",
        metadata=_opt(
            "--precision",
            "Numeric precision of the forward passes and methods: auto (bf16 on CUDA devices "
            "that support it, else fp32), fp32, bf16 or fp16 (CUDA only). The resolved value is "
            "recorded on the run.",
            "choice",
            choices=PRECISIONS,
        ),
    )
    threads: int | None = field(
        default=None,
        metadata=_opt(
            "--threads",
            "CPU threads for torch. Default: torch's own choice (all cores). When other "
            "processes share the CPU, 1 thread can be several times faster.",
            "int",
        ),
    )
    workers: int = field(
        default=1,
        metadata=_opt(
            "--workers",
            "Compute batches on this many Ray workers (each loads the checkpoint once); 1 "
            "without --ray-address runs in this process. Needs the 'scale' extra (ray).",
            "int",
        ),
    )
    ray_address: str | None = field(
        default=None,
        metadata=_opt(
            "--ray-address",
            "Ray cluster to run the workers on: 'auto' or ray://host:port joins an existing "
            "one. Default (with --workers > 1): a local Ray instance sized to this machine.",
        ),
    )
    gpus_per_worker: float | None = field(
        default=None,
        metadata=_opt(
            "--gpus-per-worker",
            "GPUs each Ray worker reserves (fractions share a GPU). Default: 1 when the cluster "
            "has GPUs, else 0; --threads then means threads per worker.",
            "float",
        ),
    )
    shard: str | None = field(
        default=None,
        metadata=_opt(
            "--shard",
            "I/N: compute only shard I (0-based) of N of the run's batches, for N processes "
            "(a Slurm array, a job per GPU) filling one run; it is complete when every shard is.",
        ),
    )
    zero_shot: bool = field(
        default=False,
        metadata=_opt(
            "--zero-shot",
            "Treat the checkpoint as a causal LM and score --verbalizers after --prompt.",
            "flag",
        ),
    )
    prompt: str = field(
        default="Review: {text}\nSentiment:",
        metadata=_opt("--prompt", "Zero-shot prompt template; must contain {text}."),
    )
    verbalizers: tuple[str, ...] = field(
        default=(" negative", " positive"),
        metadata=_opt(
            "--verbalizers",
            "Zero-shot class words in class order, comma-separated, each one token "
            "(leading spaces kept).",
            "list",
        ),
    )
    fresh_head: bool = field(
        default=False,
        metadata=_opt(
            "--fresh-head",
            "Allow a checkpoint without a classification head: add a new, randomly "
            "initialised one (benchmarks, sanity checks).",
            "flag",
        ),
    )
    randomize_weights: bool = field(
        default=False,
        metadata=_opt(
            "--randomize-weights",
            "Sanity check (Adebayo et al. 2018): re-initialise all weights (seeded) before "
            "explaining.",
            "flag",
        ),
    )
    randomize_layers: int | None = field(
        default=None,
        metadata=_opt(
            "--randomize-layers",
            "With --randomize-weights: cascading randomization (Adebayo et al. 2018) that "
            "re-initialises only the top layers, from the last down to layer K (0-based), plus "
            "the pooler and classification head; embeddings and the layers below K keep their "
            "trained weights. K = the number of layers re-initialises the head only. Default: "
            "every weight.",
            "int",
            recorded_when_set=True,
        ),
    )
    methods: tuple[str, ...] = field(
        default=vocabulary.default_method_ids(),
        metadata=_opt(
            "--methods",
            "Comma-separated explanation methods, of: "
            + ", ".join(vocabulary.method_ids())
            + ". '' or 'none' stores predictions and attention only.",
            "list",
        ),
    )
    explain_output: str = field(
        default="prob",
        metadata=_opt(
            "--explain-output",
            "What the methods explain: the predicted class's probability or its logit.",
            "choice",
            choices=("prob", "logit"),
        ),
    )
    ig_steps: int = field(
        default=50, metadata=_opt("--ig-steps", "Integrated Gradients steps.", "int")
    )
    ig_baseline: str = field(
        default="zero",
        metadata=_opt(
            "--ig-baseline",
            "IG baseline for the content tokens: zero or pad-token embeddings, specials and "
            "the zero-shot prompt kept as they are (the counterfactual SHAP and the deletion "
            "tests use); zero-all: zero embeddings at every position (the seed papers' "
            "literal baseline).",
            "choice",
            choices=tuple(vocabulary.IG_BASELINES),
        ),
    )
    shap_evals: int | None = field(
        default=None,
        metadata=_opt(
            "--shap-evals",
            f"SHAP model evaluations per example. Default: {vocabulary.SHAP_EVALS_RULE}.",
            "int",
        ),
    )
    head_ablation: bool = field(
        default=False,
        metadata=_opt(
            "--head-ablation",
            "Also measure each head's importance by ablation: the predicted class's "
            "probability drop with that head's output zeroed (layers x heads forward passes "
            "per example). The gate-gradient importance is always computed.",
            "flag",
            recorded_when_set=True,
        ),
    )
    lime_samples: int | None = field(
        default=None,
        metadata=_opt(
            "--lime-samples",
            "LIME samples (model evaluations) per example, drawn with --seed. Default: "
            f"{vocabulary.LIME_DEFAULT_SAMPLES}.",
            "int",
            recorded_when_set=True,
        ),
    )
    flow_max_tokens: int = field(
        default=64,
        metadata=_opt(
            "--flow-max-tokens",
            "Attention flow only for examples up to this many tokens (it is slow).",
            "int",
        ),
    )

    # -- derived ----------------------------------------------------------------------------
    def run_settings(self) -> dict[str, Any]:
        """The settings that define a run's numbers (JSON-ready), stored as ``Run.settings``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in _NOT_RUN_DEFINING:
                continue
            value = getattr(self, f.name)
            if (value is None or value is False) and f.metadata.get("recorded_when_set"):
                continue  # added later: runs stored before it keep their identity
            partner = f.metadata.get("recorded_with")
            if partner is not None and getattr(self, partner) is None:
                continue  # meaningful only beside another setting, which is not given
            if value == f.default and f.metadata.get("recorded_unless_default"):
                continue  # likewise, for a setting whose default is what runs did before
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def settings_hash(self) -> str:
        blob = json.dumps(self.run_settings(), sort_keys=True).encode()
        return hashlib.sha1(blob).hexdigest()[:8]

    def default_run_name(self) -> str:
        parts = [_short(self.checkpoint), _short(self.dataset)]
        if self.split:
            parts.append(self.split)
        if self.zero_shot:
            parts.append("zs")
        return "-".join(parts + [self.settings_hash()])

    @property
    def name(self) -> str:
        return self.run_name or self.default_run_name()

    @property
    def uses_ray(self) -> bool:
        """Whether batches are computed by Ray workers (``--workers N > 1`` or an address)."""
        return self.workers > 1 or self.ray_address is not None


def parse_shard(value: str) -> tuple[int, int]:
    """``--shard I/N`` -> (I, N), 0 <= I < N; raises SettingsError."""
    index, _, count = value.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        raise SettingsError(f"--shard takes I/N (e.g. 0/4), got {value!r}") from None
    if n < 1 or not 0 <= i < n:
        raise SettingsError(f"--shard {value}: need 0 <= I < N")
    return i, n


def option_envvar(setting: Field) -> str:
    """The environment variable an IngestSettings field's option is read from."""
    return setting.metadata.get("envvar", "ATLAS_" + setting.name.upper())


def _short(ref: str) -> str:
    tail = ref.rstrip("/").replace("\\", "/").split("/")[-1] or ref
    for ext in (".csv", ".tsv", ".jsonl", ".parquet"):
        tail = tail.removesuffix(ext)
    return tail[:60]


def parse_methods(value: str | None) -> tuple[str, ...]:
    """``--methods`` text -> method ids; None = the defaults, '' or 'none' = no methods."""
    if value is None:
        return vocabulary.default_method_ids()
    if value.strip().lower() in NO_METHODS:
        return ()
    ids = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = vocabulary.unknown_methods(ids)
    if unknown:
        known = ", ".join(vocabulary.method_ids())
        raise SettingsError(f"unknown method(s) {', '.join(unknown)} in --methods; known: {known}")
    return ids


def validate(settings: IngestSettings) -> IngestSettings:
    """Check values the CLI types cannot; returns the settings or raises SettingsError."""
    positive = (
        "batch_size",
        "max_length",
        "ig_steps",
        "limit",
        "sample",
        "shap_evals",
        "lime_samples",
        "threads",
        "workers",
    )
    for name in positive:
        value = getattr(settings, name)
        if value is not None and value < 1:
            raise SettingsError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if settings.full_attention_max_tokens < 0:
        raise SettingsError("--full-attention-max-tokens must be 0 or more")
    if settings.zero_shot and "," in settings.text_field:
        raise SettingsError("--zero-shot takes one --text-field: a prompt has one {text} slot")
    if settings.zero_shot and "{text}" not in settings.prompt:
        raise SettingsError(f"--prompt must contain {{text}}: {settings.prompt!r}")
    if settings.randomize_layers is not None:
        if not settings.randomize_weights:
            raise SettingsError("--randomize-layers needs --randomize-weights")
        if settings.randomize_layers < 0:
            raise SettingsError("--randomize-layers must be 0 or more")
    if settings.gpus_per_worker is not None and settings.gpus_per_worker < 0:
        raise SettingsError("--gpus-per-worker must be 0 or more")
    if settings.shard is not None:
        parse_shard(settings.shard)
        if settings.uses_ray:
            raise SettingsError(
                "--shard runs one process per shard: leave out --workers and --ray-address"
            )
    if settings.rationale_format not in RATIONALE_FORMATS:
        raise SettingsError(f"--rationale-format must be one of {', '.join(RATIONALE_FORMATS)}")
    if settings.labels is not None and len(settings.labels) < 2:
        raise SettingsError("--labels needs at least two comma-separated names")
    return settings
