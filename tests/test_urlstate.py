"""The URL codec: table-driven parsing (bad values -> defaults) and round trips."""

from __future__ import annotations

import pytest

from attention_atlas.dashboard import inputs
from attention_atlas.dashboard.urlstate import (
    CorpusState,
    ExampleState,
    FaithfulnessState,
    HeadsState,
)

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
        (ExampleState, "?view=chars", "view", None),  # None: the view follows the length
        (ExampleState, "?methods=ig,attention,ig", "methods", ("ig", "attention")),
        (ExampleState, "?methods=ig,unknown_method", "methods", ()),
        (ExampleState, "?methods=,", "methods", ()),
        (ExampleState, "?density=compact", "density", "compact"),
        (ExampleState, "?density=tiny", "density", "normal"),
        (ExampleState, "?specials=1", "specials", True),
        (ExampleState, "?token=x", "token", None),
        (HeadsState, "?ref=shap&stat=first", "stat", "first"),
        (HeadsState, "?ref=unknown_method", "ref", "ig"),
    ],
)
def test_page_states(cls, search: str, field: str, value) -> None:
    assert getattr(cls.parse(search), field) == value


def test_pages_keep_the_corpus_filter_and_round_trip() -> None:
    search = (
        "?agree=0.6&density=compact&head=3&layer=5&methods=shap,ig,attention"
        "&pair=attention,shap&token=7&view=word"
    )
    state = ExampleState.parse(search)
    assert state.corpus.agree == 0.6 and state.corpus.pair == ("attention", "shap")
    assert state.to_search() == search
    heads = HeadsState.parse("?band=agree&head=1&layer=0&ref=shap")
    assert heads.corpus.band == "agree" and HeadsState.parse(heads.to_search()) == heads
    assert FaithfulnessState.parse("?run=3&zzz=1").to_search() == "?run=3"


# -- untrusted values: the parsers never raise and range-check integers ----------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (3, 3),
        ("3", 3),
        (" 7 ", 7),
        (3.0, 3),
        (2**63 - 1, 2**63 - 1),
        (2**63, None),
        ("999999999999999999999", None),
        (-1, None),
        (True, None),
        (3.5, None),
        (float("nan"), None),
        (float("inf"), None),
        ("٣", None),
        ("1_000", None),
        ("0x10", None),
        ("9" * 5000, None),
        ([3], None),
        ({"a": 1}, None),
        (None, None),
    ],
)
def test_as_int_range_checks_and_never_raises(value, expected) -> None:
    assert inputs.as_int(value, 0) == expected


def test_text_parsers_drop_what_no_database_stores() -> None:
    assert inputs.as_str("a\x00b\ud800c") == "abc"
    assert inputs.as_str({"a": 1}, "x") == "x" and len(inputs.as_str("a" * 10**6)) == 20_000
    assert inputs.as_text([1, "2", [3], {"a": 1}, 2.5]) == "1,2,2.5"
    assert inputs.as_text(True) is None and inputs.as_text({"a": 1}) is None
    assert inputs.as_float("1e999") is None and inputs.as_float("-0.25") == -0.25


def test_plotly_event_parsers() -> None:
    assert inputs.clicked_cell({"points": [{"x": 2, "y": 1}]}) == (1, 2)
    assert inputs.clicked_cell({"points": "x"}) is None and inputs.clicked_cell(3) is None
    assert inputs.clicked_cell({"points": [{"x": 10**30, "y": 1}]}) is None
    assert inputs.selected_box({"range": {"x": [0, 1], "y": [2, "nan"]}}) is None
    assert inputs.selected_box({"range": {"x": [1, 0], "y": [2, 3]}}) == (1.0, 0.0, 2.0, 3.0)
    points = [{"customdata": v} for v in (5, "2", 2**64, None, [1], -3)]
    assert inputs.selected_ids({"points": points}) == [2, 5]


@pytest.mark.parametrize(
    "query",
    [
        "?run=99999999999999999999&page=9223372036854775808&minlen=1e3",
        "?label=1,99999999999999999999&ids=" + ",".join(str(i) for i in range(1, 502)),
        "?box=1,2,nan,4&agree=inf&disagree=1e999",
        "?q=%00%ED%A0%80",
        3,
        ["?run=2"],
        {"run": {"a": 1}, "label": [[1]], "page": True},
        None,
    ],
)
def test_parse_falls_back_to_defaults_on_hostile_queries(query) -> None:
    for cls in (CorpusState, ExampleState, HeadsState, FaithfulnessState):
        state = cls.parse(query)
        assert type(state).parse(state.to_search()) == state
    assert CorpusState.parse(query).with_(q="") == CorpusState()


def test_parse_keeps_text_without_nul_or_surrogates() -> None:
    assert CorpusState.parse("?q=a%00b\ud800c").q == "abc"
    assert ExampleState.parse({"layer": "9223372036854775807"}).layer == 2**63 - 1
    assert ExampleState.parse({"layer": "9223372036854775808"}).layer is None


# -- the shape of a callback request (dashboard.server.errors) -------------------------------------
def _callback_map() -> dict:
    from dash import ALL, Output

    return {
        "out.children": {
            "callback": print,
            "inputs": [{"id": "a", "property": "value"}],
            "state": [{"id": "loc", "property": "pathname"}],
            "output": Output("out", "children"),
        },
        '{"page":["ALL"],"type":"nav"}.href': {
            "callback": print,
            "inputs": [{"id": "a", "property": "value"}],
            "state": [],
            "output": Output({"type": "nav", "page": ALL}, "href"),
        },
        "client.data": {"inputs": [], "state": [], "output": Output("client", "data")},
    }


def _body(**changes: object) -> dict:
    body = {
        "output": "out.children",
        "outputs": {"id": "out", "property": "children"},
        "inputs": [{"id": "a", "property": "value", "value": {"any": ["json"]}}],
        "state": [{"id": "loc", "property": "pathname", "value": "/example/3"}],
        "changedPropIds": ["a.value"],
    }
    return {**body, **changes}


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        (_body(), True),
        (_body(inputs=[]), False),
        (_body(inputs=[{"id": "a", "property": "value"}] * 2), False),
        (_body(inputs=[{"id": "b", "property": "value"}]), False),
        (_body(inputs={"id": "a", "property": "value"}), False),
        (_body(state=[{"id": "loc", "property": "pathname", "value": 3}]), False),
        (_body(state=[{"id": "loc", "property": "pathname", "value": "example"}]), False),
        (_body(outputs=[{"id": "out", "property": "children"}]), False),
        (_body(outputs={"id": "out", "property": "children@1a2b"}), True),
        (_body(output="client.data"), False),
        (_body(output=["out.children"]), False),
        (_body(changedPropIds=[{"a": 1}]), False),
        ([_body()], False),
        (None, False),
    ],
)
def test_callback_request_shape(body, ok: bool) -> None:
    from attention_atlas.dashboard.server.errors import callback_request_problem

    assert (callback_request_problem(body, _callback_map()) is None) is ok


@pytest.mark.parametrize(
    ("outputs", "ok"),
    [
        ([], True),
        ([{"id": {"type": "nav", "page": "x"}, "property": "href"}] * 3, True),
        ([{"id": {"type": "other", "page": "x"}, "property": "href"}], False),
        ([{"id": {"type": "nav", "page": ["x"]}, "property": "href"}], False),
        ([{"id": {"type": "nav"}, "property": "href"}], False),
        ({"id": {"type": "nav", "page": "x"}, "property": "href"}, False),
    ],
)
def test_pattern_output_shape(outputs, ok: bool) -> None:
    from attention_atlas.dashboard.server.errors import callback_request_problem

    body = _body(output='{"page":["ALL"],"type":"nav"}.href', outputs=outputs, state=[])
    assert (callback_request_problem(body, _callback_map()) is None) is ok
