"""The URL codec: table-driven parsing (bad values -> defaults) and round trips."""

from __future__ import annotations

import pytest

from dashboard.urlstate import CorpusState, ExampleState, FaithfulnessState, HeadsState

CASES = [
    ("", {}),
    ("?pair=ig,attention", {"pair": ("attention", "ig")}),
    ("?pair=attention,attention", {}),
    ("?pair=attention,nope", {}),
    ("?agree=0.6&disagree=-0.2", {"agree": 0.6, "disagree": -0.2}),
    ("?agree=nan&disagree=abc", {}),
    ("?label=1,0,1", {"label": (0, 1)}),
    ("?label=x", {}),
    ("?correct=no", {"correct": False}),
    ("?correct=maybe", {}),
    ("?measure=kendall&band=disagree", {"measure": "kendall", "band": "disagree"}),
    ("?measure=pearson&band=most", {}),
    ("?page=0&minlen=-3", {}),
    ("?page=3&minlen=10&maxlen=90", {"page": 3, "minlen": 10, "maxlen": 90}),
    ("?box=0.5,0.1,0.9,0.2", {"box": (0.1, 0.5, 0.2, 0.9)}),
    ("?box=1,2,3", {}),
    ("?desc=1&sort=x", {"desc": True, "sort": "x"}),
    ("?sort=DROP TABLE", {}),
    ("?q=%20great%20film%20", {"q": "great film"}),
    ("?unknown=1&run=2", {"run": 2}),
]


@pytest.mark.parametrize(("search", "expected"), CASES)
def test_corpus_parse(search: str, expected: dict) -> None:
    assert CorpusState.parse(search) == CorpusState().with_(**expected)


@pytest.mark.parametrize(("search", "expected"), CASES)
def test_corpus_round_trip(search: str, expected: dict) -> None:
    state = CorpusState.parse(search)
    assert CorpusState.parse(state.to_search()) == state


def test_to_search_drops_defaults_sorts_keys_and_stays_readable() -> None:
    state = CorpusState(pair=("attention", "shap"), agree=0.7, label=(1,), page=2)
    assert CorpusState().to_search() == ""
    assert state.to_search() == "?agree=0.7&label=1&page=2&pair=attention,shap"


def test_parse_accepts_dash_query_mapping_with_lists() -> None:
    assert CorpusState.parse({"page": ["1", "4"], "run": None}).page == 4


@pytest.mark.parametrize(
    ("cls", "search", "field", "value"),
    [
        (ExampleState, "?layer=5&head=3", "layer", 5),
        (ExampleState, "?layer=-1", "layer", None),
        (ExampleState, "?view=word", "view", "word"),
        (ExampleState, "?view=chars", "view", "subword"),
        (ExampleState, "?specials=1", "specials", True),
        (ExampleState, "?token=x", "token", None),
        (HeadsState, "?ref=shap&stat=first", "stat", "first"),
        (HeadsState, "?ref=lime", "ref", "ig"),
    ],
)
def test_page_states(cls, search: str, field: str, value) -> None:  # noqa: ANN001
    assert getattr(cls.parse(search), field) == value


def test_pages_keep_the_corpus_filter_and_round_trip() -> None:
    search = "?agree=0.6&head=3&layer=5&pair=attention,shap&token=7&view=word"
    state = ExampleState.parse(search)
    assert state.corpus.agree == 0.6 and state.corpus.pair == ("attention", "shap")
    assert state.to_search() == search
    heads = HeadsState.parse("?band=agree&head=1&layer=0&ref=shap")
    assert heads.corpus.band == "agree" and HeadsState.parse(heads.to_search()) == heads
    assert FaithfulnessState.parse("?run=3&zzz=1").to_search() == "?run=3"
