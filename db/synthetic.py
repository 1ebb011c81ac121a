"""A deterministic, seeded fake store for dashboard tests, demos and the benchmark.

:func:`fill_synthetic_store` writes one run with examples, attention, attributions, agreements,
head scores and faithfulness through the ORM in bulk (``insert(T)``). The numbers are made up
but internally consistent: every method's scores are a noisy view of one hidden per-token
importance, agreements and head scores are computed from the stored arrays with
``db.analysis.metrics`` (the functions ingest uses), and the deletion curves follow from each
method's ranking of that hidden importance. Accuracy and
bottom-k curves and the consistency test's top-5 vectors (revision 0003) come from their own
per-example generators, so adding them left every older number as it was; so do the head
statistics and top-10% shares (revision 0008): importance is made to follow each head's
agreement with IG (so the correlation the heads page shows is positive), roles come from the
full attention where it is stored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from attention_atlas.db.analysis import head_roles, metrics
from attention_atlas.db.analysis.plausibility import plausibility, random_scores
from attention_atlas.db.writers import attention_row
from attention_atlas.models import vocabulary
from attention_atlas.models.schema import (
    Agreement,
    Attention,
    Attribution,
    Example,
    Faithfulness,
    HeadScore,
    HeadStat,
    Plausibility,
    Rationale,
    Run,
    TopVector,
)

WORDS = (  # noqa: SIM905 - a readable word list
    "the a film movie plot actor story was is not very really quite good great bad awful "
    "boring brilliant wonderful terrible funny dull long short scene music ending script "
    "cast and but so it this that with of to in for love hate fine mess charming slow"
).split()
POSITIVE = {"good", "great", "brilliant", "wonderful", "funny", "love", "fine", "charming"}
NEGATIVE = {"bad", "awful", "boring", "terrible", "dull", "hate", "mess", "slow"}
FRACTIONS = np.array([0.01, 0.05, 0.1, 0.2, 0.5], dtype=np.float32)
DELETION_STEPS = 10
VECTOR_SIZE = 16  # the synthetic "hidden size" of the top-5 vectors
NOISE = {  # how far each method's scores stray from the hidden importance (others: 1.0)
    "attention": 1.0,
    "rollout": 1.2,
    "flow": 1.1,
    "agrad": 0.6,
    "grad_input": 0.8,
    "ig": 0.3,
    "shap": 0.4,
}


def _tokens(rng: np.random.Generator, n_text: int) -> tuple[list[str], list[int], str]:
    """``n_text`` word pieces (long words split in two), their word ids and the text."""
    tokens: list[str] = []
    word_ids: list[int] = []
    words: list[str] = []
    while len(tokens) < n_text:
        word = WORDS[rng.integers(len(WORDS))]
        pieces = [word[:4], "##" + word[4:]] if len(word) > 6 else [word]
        for piece in pieces[: n_text - len(tokens)]:
            tokens.append(piece)
            word_ids.append(len(words))
        words.append(word)
    return tokens, word_ids, " ".join(words)


def _offsets(text: str, tokens: list[str]) -> np.ndarray:
    spans, cursor = [], 0
    for token in tokens:
        piece = token.removeprefix("##")
        start = text.index(piece, cursor)
        spans.append((start, start + len(piece)))
        cursor = start + len(piece)
    return np.array(spans, dtype=np.int32).reshape(-1, 2)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _curves(order: np.ndarray, importance: np.ndarray, p0: float, base: float) -> dict:
    """Deletion/comprehensiveness/sufficiency from removing tokens in ``order``."""
    removed = np.concatenate([[0.0], np.cumsum(importance[order]) / importance.sum()])
    prob_without = base + (p0 - base) * (1 - removed)  # [n + 1], after removing top-k
    n = len(order)
    ks = np.maximum(1, np.ceil(FRACTIONS * n).astype(int))
    comp = p0 - prob_without[ks]
    suff = p0 - (base + (p0 - base) * removed[ks])
    deletion = prob_without[np.minimum(np.arange(DELETION_STEPS + 1), n)]
    return {
        "comprehensiveness": float(comp.mean()),
        "sufficiency": float(suff.mean()),
        "fractions": FRACTIONS,
        "comprehensiveness_at": comp.astype(np.float32),
        "sufficiency_at": suff.astype(np.float32),
        "deletion": deletion.astype(np.float32),
    }


def _example_rows(
    rng: np.random.Generator,
    example_id: int,
    run_id: int,
    n_tokens: int,
    layers: int,
    heads: int,
    full_max: int,
    methods: list[str],
) -> dict:
    tokens, word_ids, text = _tokens(rng, n_tokens - 2)
    tokens = ["[CLS]", *tokens, "[SEP]"]
    special = np.zeros(n_tokens, dtype=bool)
    special[[0, -1]] = True
    offsets = np.vstack([[0, 0], _offsets(text, tokens[1:-1]), [0, 0]]).astype(np.int32)
    polarity = np.array([1.0 if t in POSITIVE else -1.0 if t in NEGATIVE else 0.2 for t in tokens])
    importance = np.abs(rng.normal(size=n_tokens)) * (1 + 2 * (np.abs(polarity) > 0.5))
    importance[special] = 0.0
    label = int(rng.integers(2))
    prediction = label if rng.random() < 0.8 else 1 - label
    p_pred = float(rng.uniform(0.55, 0.99))
    probabilities = np.array([1 - p_pred, p_pred] if prediction else [p_pred, 1 - p_pred])
    alpha = rng.uniform(-0.5, 2.0, size=(layers, heads, 1))
    sink = rng.uniform(2, 7, size=(layers, heads, 1)) * (rng.random((layers, heads, 1)) < 0.4)
    logits = alpha * np.log(importance + 0.05) + rng.normal(
        scale=0.5, size=(layers, heads, n_tokens)
    )
    logits[..., 0] += sink[..., 0]
    rows = _softmax(logits).astype(np.float32)
    full = None
    if n_tokens <= full_max:
        full_logits = rng.normal(size=(layers, heads, n_tokens, n_tokens))
        full = _softmax(full_logits)
        full[:, :, 0, :] = rows  # the prediction position (0, like [CLS]) keeps its own rows
    sign = np.sign(polarity) * (1 if prediction else -1)
    base_scores = {
        "attention": rows[-1].mean(axis=0),
        "rollout": rows.mean(axis=(0, 1)),
        "flow": rows[: layers // 2 + 1].mean(axis=(0, 1)),
    }
    scores: dict[str, np.ndarray] = {}
    hardness = rng.uniform(0.3, 3.0)  # some examples make every method noisier
    for method in methods:
        noise = rng.normal(scale=NOISE.get(method, 1.0) * hardness, size=n_tokens)
        if method in base_scores:
            value = base_scores[method] * np.exp(0.2 * noise)
        else:
            value = sign * importance + noise * importance.mean()
        scores[method] = value.astype(np.float32)
    example = {
        "id": example_id,
        "run_id": run_id,
        "source_index": example_id,
        "text": text,
        "tokens": tokens,
        "offsets": offsets,
        "special_mask": special,
        "word_ids": np.array([-1, *word_ids, -1], dtype=np.int32),
        "label": label,
        "prediction": prediction,
        "probabilities": probabilities.astype(np.float32),
        "confidence": p_pred,
        "correct": label == prediction,
        "length": n_tokens,
        "prediction_position": 0,
        "truncated": False,
    }
    return {
        "example": example,
        "rows": rows,
        "full": full,
        "scores": scores,
        "importance": importance,
        "special": special,
        "p0": p_pred,
    }


def _derived(
    rng: np.random.Generator, item: dict, example_id: int, run_id: int, methods: list[str]
) -> dict:
    keep = ~item["special"]
    scores = {m: s[keep] for m, s in item["scores"].items()}
    table = metrics.agreement_table(np.stack([scores[m].astype(np.float64) for m in methods]))
    agreements = [
        {
            "run_id": run_id,
            "example_id": example_id,
            "method_a": methods[i],
            "method_b": methods[j],
            **values,
        }
        for (i, j), values in table.items()
    ]
    head_scores = [
        {
            "run_id": run_id,
            "example_id": example_id,
            "reference": ref,
            "grid": metrics.head_grid(item["rows"], item["scores"][ref], keep),
            "top_share": head_roles.row_share(
                item["rows"], head_roles.top_token_mask(item["scores"][ref], keep)
            ),
        }
        for ref in vocabulary.reference_method_ids()
        if ref in scores
    ]
    importance = item["importance"][keep]
    orders = {m: np.argsort(-np.abs(s), kind="stable") for m, s in scores.items()}
    orders[vocabulary.RANDOM.id] = rng.permutation(len(importance))
    faithfulness = [
        {
            "run_id": run_id,
            "example_id": example_id,
            "method": m,
            **_curves(order, importance, item["p0"], 0.5),
        }
        for m, order in orders.items()
    ]
    for row in faithfulness:
        _add_0003_curves(row, scores.get(row["method"]), importance, item["p0"])
    vectors = _top_vectors(item["example"], scores, run_id)
    return {
        "agreements": agreements,
        "head_scores": head_scores,
        "faith": faithfulness,
        "vectors": vectors,
        "head_stats": _head_stats(item, head_scores, run_id),
    }


def _head_stats(item: dict, head_scores: list[dict], run_id: int) -> dict:
    """Importance growing with each head's agreement with the first reference (own generator:
    the older numbers stay as they were), roles from the full attention (NaN without it)."""
    example_id = item["example"]["id"]
    rng = np.random.default_rng([example_id, 5])
    rows, special = item["rows"], item["special"]
    layers, heads, n = rows.shape
    agreement = np.nan_to_num(head_scores[0]["grid"]) if head_scores else np.zeros((layers, heads))
    noise = rng.lognormal(sigma=0.3, size=(layers, heads))
    gradient = (0.02 * noise * np.exp(3 * agreement)).astype(np.float32)
    punctuation = head_roles.punctuation_mask(item["example"]["tokens"])
    roles = np.full((layers, heads, len(head_roles.ROLE_STATS)), np.nan, dtype=np.float32)
    if item["full"] is not None:
        roles = head_roles.role_stats(item["full"], special, punctuation)
    return {
        "run_id": run_id,
        "example_id": example_id,
        "gradient": gradient,
        "ablation": (gradient * rng.uniform(0.5, 1.5, size=(layers, heads))).astype(np.float32),
        "roles": roles,
        "structure_share": head_roles.row_share(rows, special | punctuation),
    }


def _add_0003_curves(
    row: dict, scores: np.ndarray | None, importance: np.ndarray, p0: float
) -> None:
    """The accuracy curve (two classes: still predicted while p > 0.5) and, for signed
    methods, the bottom-k curve: deleting the most negative tokens makes p rise."""
    row["deletion_same"] = row["deletion"] > 0.5
    row["deletion_bottom"] = row["deletion_bottom_same"] = None
    if row["method"] not in vocabulary.signed_method_ids() or scores is None:
        return
    order = np.argsort(scores, kind="stable")
    against = np.where(scores[order] < 0, importance[order], 0.0)
    gained = np.concatenate([[0.0], np.cumsum(against) / max(importance.sum(), 1e-9)])
    curve = p0 + (0.99 - p0) * gained[np.minimum(np.arange(DELETION_STEPS + 1), len(order))]
    row["deletion_bottom"] = curve.astype(np.float32)
    row["deletion_bottom_same"] = curve > 0.5


def _top_vectors(example: dict, scores: dict[str, np.ndarray], run_id: int) -> list[dict]:
    """Per method a [VECTOR_SIZE] float16 vector near its class's centre; the less noisy the
    method, the better the classes separate (correct examples only get a class signal)."""
    rng = np.random.default_rng([example["id"], 3])
    centre = np.where(np.arange(VECTOR_SIZE) % 2 == example["label"], 1.0, -1.0)
    signal = 1.0 if example["correct"] else 0.0
    rows = []
    for method in scores:
        noise = rng.normal(size=VECTOR_SIZE) * NOISE.get(method, 1.0) * 1.5
        vector = (signal * centre + noise).astype(np.float16)
        rows.append(
            {"run_id": run_id, "example_id": example["id"], "method": method, "vector": vector}
        )
    return rows


def _rationale(item: dict, run_id: int) -> dict:
    """A synthetic "human" rationale (every fifth example has none): the content tokens of
    highest hidden importance, blurred by noise from the example's own generator (so older
    numbers stay as they were), and every method's plausibility against it."""
    example_id = item["example"]["id"]
    if example_id % 5 == 0:
        return {"rationale": [], "plausibility": []}
    rng = np.random.default_rng([example_id, 23])
    keep = ~item["special"]
    importance = item["importance"][keep]
    blurred = importance + rng.normal(scale=importance.std() + 1e-9, size=len(importance))
    marked = np.zeros(len(importance), dtype=bool)
    marked[np.argsort(-blurred, kind="stable")[: max(1, len(importance) // 4)]] = True
    mask = np.zeros(len(keep), dtype=bool)
    mask[keep] = marked
    ids = {"run_id": run_id, "example_id": example_id}
    signed = vocabulary.signed_method_ids()
    rows = [
        {**ids, "method": m, **plausibility(marked, s[keep], m in signed)}
        for m, s in item["scores"].items()
    ]
    baseline = random_scores(rng.permutation(len(importance)), len(importance))
    rows.append({**ids, "method": vocabulary.RANDOM.id, **plausibility(marked, baseline, False)})
    rationale = {**ids, "mask": mask, "marked": int(marked.sum()), "cut": 0}
    return {"rationale": [rationale], "plausibility": rows}


def _write_batch(session: Session, items: list[dict], derived: list[dict]) -> None:
    session.execute(insert(Example), [it["example"] for it in items])
    session.execute(
        insert(Attention),
        [attention_row(it["example"]["id"], it["rows"], it["full"], it["special"]) for it in items],
    )
    session.execute(
        insert(Attribution),
        [
            {"example_id": it["example"]["id"], "method": m, "scores": s, "check": None}
            for it in items
            for m, s in it["scores"].items()
        ],
    )
    session.execute(insert(Agreement), [a for d in derived for a in d["agreements"]])
    heads = [h for d in derived for h in d["head_scores"]]
    if heads:
        session.execute(insert(HeadScore), heads)
    session.execute(insert(Faithfulness), [f for d in derived for f in d["faith"]])
    session.execute(insert(TopVector), [v for d in derived for v in d["vectors"]])
    for model, key in ((Rationale, "rationale"), (Plausibility, "plausibility")):
        rows = [r for d in derived for r in d.get(key, [])]
        if rows:
            session.execute(insert(model), rows)
    session.execute(insert(HeadStat), [d["head_stats"] for d in derived])


def fill_synthetic_store(
    session_or_engine: Session | Engine,
    n_examples: int = 40,
    layers: int = 2,
    heads: int = 2,
    min_tokens: int = 8,
    max_tokens: int = 24,
    seed: int = 0,
    *,
    run_name: str | None = None,
    methods: list[str] | None = None,
    full_max_tokens: int = 64,
    batch_size: int = 200,
    rationales: bool = False,
) -> int:
    """Write one synthetic run of ``n_examples`` examples and return its id.

    Lengths are uniform in ``[min_tokens, max_tokens]`` (two specials included); the full
    attention tensor is stored only for examples up to ``full_max_tokens`` tokens, like a real
    run's length cap. ``rationales``: synthetic rationales and plausibility rows too. The same
    arguments always give the same numbers.
    """
    args = (n_examples, layers, heads, min_tokens, max_tokens, seed, run_name, methods)
    if isinstance(session_or_engine, Session):
        return _fill(session_or_engine, *args, full_max_tokens, batch_size, rationales)
    with Session(session_or_engine) as session:
        return _fill(session, *args, full_max_tokens, batch_size, rationales)


def _fill(
    session: Session,
    n_examples: int,
    layers: int,
    heads: int,
    min_tokens: int,
    max_tokens: int,
    seed: int,
    run_name: str | None,
    methods: list[str] | None,
    full_max: int,
    batch_size: int,
    rationales: bool = False,
) -> int:
    methods = vocabulary.in_order(methods or vocabulary.one_stack_method_ids())
    rng = np.random.default_rng(seed)
    run = _make_run(run_name or f"synthetic-{seed}", methods, layers, heads, n_examples, seed)
    session.add(run)
    session.flush()
    first_id = (session.scalar(select(func.max(Example.id))) or 0) + 1
    min_tokens = max(min_tokens, 4)
    for start in range(0, n_examples, batch_size):
        items, derived = [], []
        for offset in range(start, min(start + batch_size, n_examples)):
            example_id = first_id + offset
            n_tokens = int(rng.integers(min_tokens, max_tokens + 1))
            item = _example_rows(
                rng, example_id, run.id, n_tokens, layers, heads, full_max, methods
            )
            items.append(item)
            derived.append(_derived(rng, item, example_id, run.id, methods))
            if rationales:
                derived[-1] |= _rationale(item, run.id)
        _write_batch(session, items, derived)
        session.commit()
    return run.id


def _make_run(
    name: str, methods: list[str], layers: int, heads: int, n_examples: int, seed: int
) -> Run:
    settings: dict[str, Any] = {"synthetic": True, "seed": seed, "fractions": FRACTIONS.tolist()}
    return Run(
        name=name,
        checkpoint="synthetic/tiny",
        revision=None,
        adapter="encoder",
        dataset="synthetic",
        split="test",
        text_field="text",
        label_field="label",
        label_names=["negative", "positive"],
        methods=methods,
        settings=settings,
        versions={"synthetic": "1"},
        num_layers=layers,
        num_heads=heads,
        status="complete",
        n_source=n_examples,
        n_done=n_examples,
    )
