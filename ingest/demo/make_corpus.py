"""Writes ``corpus.jsonl``, the demo's labelled movie reviews, from hand-written parts.

Run ``python -m attention_atlas.ingest.demo.make_corpus`` (add ``--check`` to only verify that
the file is up to date). Two sources, both written by the project: fully hand-written reviews
(``handwritten.py``) and composed reviews (``snippets.py``: openings, neutral subject lines with
invented names and numbers, plot summaries, opinion sentences of many shapes, closers) put
together by a seeded RNG. The result is byte-for-byte reproducible.

Held-out split: the test split gets its own hand-written reviews and composed reviews built only
from opinion and closer sentences held back from training (neutral sentences are shared), so the
test accuracy is not inflated by sentences the classifier saw labelled.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

from attention_atlas.ingest.demo import handwritten, snippets

SEED = 20261121
CORPUS_PATH = Path(__file__).with_name("corpus.jsonl")
COMPOSED_PER_LABEL = 300
TEST_PER_LABEL = 50
HANDWRITTEN_TEST_PER_LABEL = 20
HELD_BACK_SHARE = 0.25  # of opinion and closer sentences, reserved for the test split

CODES = {
    "N": "negation",
    "C": "contrast",
    "I": "intensifier",
    "H": "hedge",
    "S": "sarcasm",
    "P": "plot_summary",
}
TAGS = [*CODES.values(), "names", "numbers"]
NAMES = [
    *snippets.TITLES,
    *snippets.DIRECTORS,
    *snippets.ACTRESSES,
    *snippets.ACTORS_M,
    *snippets.WRITERS,
]
_NUMBER = re.compile(
    r"\d|\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|ninety|"
    r"hundred)\b",
    re.IGNORECASE,
)
# shape of a composed review: o opening, s subject, p plot sentence, O opinion, V verdict on one
# aspect, c closer
SHAPES = [
    ("O", 5),
    ("oO", 3),
    ("OO", 3),
    ("sO", 3),
    ("Oc", 3),
    ("sOc", 3),
    ("oOOc", 1),
    ("osOc", 1),
    ("sppOc", 1),
    ("pOp", 1),
    ("ppO", 1),
    ("V", 3),
    ("VV", 2),
    ("OV", 2),
    ("VO", 2),
    ("sV", 2),
    ("Vc", 2),
    ("oVc", 2),
    ("sVVc", 1),
    ("ppV", 1),
]


def build_examples(seed: int = SEED) -> list[dict]:
    """All corpus rows (id, text, label, split, tags, source), in file order."""
    rows = _handwritten_rows(_stream(seed, "handwritten"))
    for label, opinions, closers in (
        (1, snippets.OPINIONS_POS, snippets.CLOSERS_POS),
        (0, snippets.OPINIONS_NEG, snippets.CLOSERS_NEG),
    ):
        rows += _composed_rows(seed, label, opinions, closers)
    _stream(seed, "order").shuffle(rows)
    return [{"id": f"demo-{i:03d}", **row} for i, row in enumerate(rows, start=1)]


def render(rows: list[dict]) -> str:
    """The jsonl text of ``rows``: one compact object per line, keys in a fixed order."""
    keys = ("id", "text", "label", "split", "tags", "source")
    return "".join(json.dumps({k: r[k] for k in keys}, ensure_ascii=False) + "\n" for r in rows)


def _handwritten_rows(rng: random.Random) -> list[dict]:
    rows = []
    for label, reviews in ((1, handwritten.POSITIVE), (0, handwritten.NEGATIVE)):
        order = list(range(len(reviews)))
        rng.shuffle(order)
        for rank, index in enumerate(order):
            codes, text = reviews[index]
            split = "test" if rank < HANDWRITTEN_TEST_PER_LABEL else "train"
            rows.append(_row(_fill(text, rng), label, split, set(codes), "handwritten"))
    return rows


def _stream(seed: int, *parts: object) -> random.Random:
    """An independent RNG per purpose, so that e.g. more training reviews leave the test
    split unchanged (string seeds are hashed with SHA-512: stable across runs)."""
    return random.Random("/".join(map(str, (seed, *parts))))


def _composed_rows(seed: int, label: int, opinions: list, closers: list) -> list[dict]:
    opinion_pools = _hold_back(_stream(seed, "hold-back", label), opinions)
    closer_pools = _hold_back(_stream(seed, "hold-back-closers", label), closers)
    test_count = TEST_PER_LABEL - HANDWRITTEN_TEST_PER_LABEL
    rows, seen = [], set()
    for split, count in (("test", test_count), ("train", COMPOSED_PER_LABEL - test_count)):
        rng, made = _stream(seed, split, label), 0
        while made < count:
            text, codes = _compose(rng, label, opinion_pools[split], closer_pools[split])
            if text in seen:
                continue
            seen.add(text)
            rows.append(_row(text, label, split, codes, "composed"))
            made += 1
    return rows


def _hold_back(rng: random.Random, items: list) -> dict[str, list]:
    shuffled = list(items)
    rng.shuffle(shuffled)
    cut = round(len(shuffled) * HELD_BACK_SHARE)
    return {"test": shuffled[:cut], "train": shuffled[cut:]}


def _compose(rng: random.Random, label: int, opinions: list, closers: list) -> tuple[str, set[str]]:
    shape = rng.choices([s for s, _ in SHAPES], weights=[w for _, w in SHAPES])[0]
    codes: set[str] = {"P"} if "p" in shape else set()
    plot = iter(rng.choice(snippets.PLOTS))
    picked = rng.sample(opinions, shape.count("O"))
    parts = []
    for slot in shape:
        if slot == "O":
            part_codes, part = picked.pop()
            codes.update(part_codes)
        elif slot == "V":
            part_codes, part = _verdict(rng, label)
            codes.update(part_codes)
        elif slot == "c" and rng.random() < 0.35:
            part = _rating(rng, label)
        elif slot == "c":
            part_codes, part = rng.choice(closers)
            codes.update(part_codes)
        else:
            part = {
                "o": lambda: rng.choice(snippets.OPENINGS),
                "s": lambda: rng.choice(snippets.SUBJECTS),
                "p": lambda: next(plot),
            }[slot]()
        parts.append(part)
    return _fill(" ".join(parts), rng), codes


def _verdict(rng: random.Random, label: int) -> tuple[str, str]:
    """One sentence judging one or two aspects, from the lexicon in ``snippets``."""
    positive = snippets.POSITIVE_WORDS, snippets.POSITIVE_VERBS, snippets.POSITIVE_REACTIONS
    negative = snippets.NEGATIVE_WORDS, snippets.NEGATIVE_VERBS, snippets.NEGATIVE_REACTIONS
    (own, verbs, reactions), (other, other_verbs, _) = (
        (positive, negative) if label else (negative, positive)
    )
    codes, template = rng.choice(snippets.VERDICTS)
    a, b = rng.sample(snippets.ASPECTS, 2)
    w, w2 = rng.sample(own, 2)
    i, x = rng.choice(snippets.INTENSIFIERS), rng.choice(other)
    values = {
        "a": a,
        "b": b,
        "w": w,
        "w2": w2,
        "x": x,
        "i": i,
        "h": rng.choice(snippets.HEDGES),
        "t": rng.choice(snippets.HEDGE_TAILS),
        "v": rng.choice(verbs),
        "xv": rng.choice(other_verbs),
        "r": rng.choice(reactions),
        "aw": _with_article(w),
        "ax": _with_article(x),
        "aiw": _with_article(f"{i} {w}"),
    }
    values |= {key.upper(): value[0].upper() + value[1:] for key, value in list(values.items())}
    return codes, template.format(**values)


def _rating(rng: random.Random, label: int) -> str:
    """A score sign-off such as "Two stars." or "8 out of 10." of the review's polarity."""
    stars, tens = snippets.RATINGS_POS if label else snippets.RATINGS_NEG
    if rng.random() < 0.5:
        n = rng.choice(stars)
        word = snippets.STAR_WORDS[n - 1]
        return rng.choice([f"{word} stars.", f"{word} out of five.", f"{n}/5."]).replace(
            "One stars", "One star"
        )
    n = rng.choice(tens)
    return rng.choice([f"{n}/10.", f"{n} out of 10.", f"I give it {n}/10."])


def _with_article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def _fill(text: str, rng: random.Random) -> str:
    """Replaces the placeholders with one consistent cast of invented names and numbers."""
    actors = snippets.ACTRESSES + snippets.ACTORS_M
    actor, actor2 = rng.sample(actors, 2)
    values = {
        "title": rng.choice(snippets.TITLES),
        "director": rng.choice(snippets.DIRECTORS),
        "actor": actor,
        "actor2": actor2,
        "actress": rng.choice(snippets.ACTRESSES),
        "actor_m": rng.choice(snippets.ACTORS_M),
        "writer": rng.choice(snippets.WRITERS),
        "year": str(rng.randint(1958, 2024)),
        "minutes": str(rng.randint(84, 171)),
        "count": rng.choice(["12", "40", "85", "300", "1,200", "2,400"]),
        "gap": str(rng.randint(2, 14)),
    }
    return text.format(**values)


def _row(text: str, label: int, split: str, codes: set[str], source: str) -> dict:
    tags = {CODES[c] for c in codes}
    if any(name in text for name in NAMES):
        tags.add("names")
    if _NUMBER.search(text):
        tags.add("numbers")
    ordered = [t for t in TAGS if t in tags]
    return {"text": text, "label": label, "split": split, "tags": ordered, "source": source}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify the file is current")
    args = parser.parse_args(argv)
    text = render(build_examples())
    if args.check:
        current = CORPUS_PATH.read_text(encoding="utf-8") if CORPUS_PATH.exists() else ""
        print("up to date" if current == text else f"{CORPUS_PATH} is stale")
        return 0 if current == text else 1
    CORPUS_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10))} reviews to {CORPUS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
