"""Seeded fuzz of the dashboard's real HTTP endpoints (issue 12: no input reaches a traceback).

A werkzeug server runs ``dashboard.server.app.create_app`` on a synthetic store in a thread. Every
server-side callback of ``app.callback_map`` (client-side ones never reach the server) gets
correctly shaped ``/_dash-update-component`` requests carrying hostile JSON values, then requests
of the wrong shape (arity, ids, types); the page router gets hostile paths and query strings,
both as page GETs and as its routing callback. No answer may be a 500 and the log may hold no
traceback. ``ATLAS_FUZZ_SEED`` replays another seed; a failure names its seed and case.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import random
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests
from sqlalchemy import text
from support.dash_fixtures import N_EXAMPLES, build_store
from werkzeug.serving import make_server

from attention_atlas.dashboard.server.app import create_app
from attention_atlas.dashboard.urlstate import FILTER_KEYS
from attention_atlas.db.engine import make_engine
from attention_atlas.db.notes import NotesWriter
from attention_atlas.db.synthetic import fill_synthetic_store

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("ATLAS_FUZZ_SEED", "12"))
N_VALUES = 1300  # well-shaped callback requests with hostile values
N_SHAPES = 500  # callback requests of the wrong shape
N_ROUTES = 400  # page URLs: half as GETs, half through the routing callback
ENDPOINT = "/_dash-update-component"
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."

# -- hostile values -----------------------------------------------------------------------
HUGE = [2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, 10**300, -(10**30)]
ODD_STRINGS = [
    "",
    " ",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e999",
    "-0",
    "0x10",
    "1_000",
    "٣",
    "999999999999999999999",
    "9" * 5000,
    "-1",
    "1.5",
    "ünïcødé ✓",
    "😀" * 50,
    "\u202e\u200b",
    "\x00",
    "\ud800",
    "a" * 100_000,
    "%",
    "_",
    "%ff",
    "'; DROP TABLE run; --",
    "<script>alert(1)</script>",
    "1,2,3",
    ",,,",
    "attention,attention",
    "?layer=999999999999999999999&head=-1&token=1e9",
    "?run=99999999999999999999&label=1,99999999999999999999&ids=" + ",".join(["1"] * 600),
    "?" + "&".join(f"k{i}=v" for i in range(300)),
]
PLAUSIBLE = [
    0,
    1,
    2,
    3,
    5,
    -1,
    0.5,
    -0.2,
    "1",
    "3",
    "word",
    "subword",
    "ig",
    "shap",
    "attention",
    "rho",
    "first",
    "special",
    "attention,ig",
    "ig,shap",
    "spearman",
    "kendall",
    "agree",
    "disagree",
    "all",
    "id",
    "confidence",
    "yes",
    "no",
    [1],
    [0, 1],
    [None, None],
    [1, 2],
    "?label=1&layer=1&head=2&page=2",
    "?ref=shap&stat=first&layer=0&head=1",
    {"points": [{"x": 1, "y": 0, "customdata": 3}]},
    {"range": {"x": [0, 0.5], "y": [-1, 1]}, "points": []},
    {"rowId": "3", "rowIndex": 0},
    [{"id": 3}, {"id": 4}],
]


def near(rng: random.Random) -> int:
    """A small integer around the store's sizes (2 layers, 3 heads, 60 examples, 40 tokens)."""
    return rng.choice([rng.randrange(-3, 8), rng.randrange(-3, 70)])


def hostile(rng: random.Random, depth: int = 0) -> Any:
    """One JSON value a browser would never send for any control (or a plausible one)."""
    kind = rng.randrange(15 if depth < 3 else 11)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice(HUGE) * rng.choice([1, -1])
    if kind == 2:
        return rng.randint(-(2**70), 2**70) >> rng.randrange(70)
    if kind == 3:
        return rng.choice([float("nan"), float("inf"), -float("inf"), 1e308, -1e-308, 0.1])
    if kind in (4, 5):
        return rng.choice(ODD_STRINGS)
    if kind in (6, 7, 8):
        return rng.choice(PLAUSIBLE)
    if kind == 9:  # just past what the store has: layers, heads, tokens, example ids
        return rng.choice([near(rng), str(near(rng)), [near(rng), near(rng)]])
    if kind == 10:
        keys = ("layer", "head", "token", "run", "page", "label", "ids", "minlen")
        return "?" + "&".join(f"{rng.choice(keys)}={near(rng)}" for _ in range(rng.randrange(4)))
    if kind == 11:
        size = rng.choice([0, 1, 2, 4] + ([700] if depth == 2 else []))  # long lists of scalars
        return [hostile(rng, depth + 1) for _ in range(size)]
    if kind == 12:
        keys = ["points", "range", "x", "y", "customdata", "rowId", "rowIndex", "id", "value"]
        return {rng.choice(keys): hostile(rng, depth + 1) for _ in range(rng.randrange(4))}
    if kind == 13:  # plotly events with hostile insides
        point = {"x": hostile(rng, 3), "y": hostile(rng, 3), "customdata": hostile(rng, 3)}
        return rng.choice(
            [
                {"points": [point] * rng.randrange(3)},
                {"points": [{"x": near(rng), "y": near(rng), "customdata": near(rng)}]},
                {"points": hostile(rng, 3)},
                {"range": {"x": hostile(rng, 3), "y": hostile(rng, 3)}},
                {"range": hostile(rng, 3)},
            ]
        )
    # a table click with hostile insides
    return {"rowId": hostile(rng, 3), "rowIndex": hostile(rng, 3), "value": hostile(rng, 3)}


# -- request bodies from the callback map -------------------------------------------------
def _concrete(spec_id: Any, rng: random.Random) -> list[dict] | Any:
    """A pattern id (``{"page": ["ALL"], ...}``) -> the concrete ids a browser would send."""
    pattern = json.loads(spec_id) if isinstance(spec_id, str) and spec_id[:1] == "{" else None
    if pattern is None:
        return spec_id
    pages = [
        "attention_atlas.dashboard.pages.corpus",
        "attention_atlas.dashboard.pages.heads",
        "attention_atlas.dashboard.pages.faithfulness",
    ]
    notes = [1, 2, near(rng), str(near(rng)), 2**63, -1, "zzz"]  # note ids of edit / delete
    count = rng.choice([0, 1, 3, 3, 3, 5])
    return [
        {
            k: (rng.choice(notes if k == "note" else pages + ["zzz"]) if isinstance(v, list) else v)
            for k, v in pattern.items()
        }
        for _ in range(count)
    ]


def _deps(specs: list[dict], values: list[Any]) -> list[dict]:
    return [
        {"id": s["id"], "property": s["property"], "value": v}
        for s, v in zip(specs, values, strict=True)
    ]


def _outputs(cb: dict, rng: random.Random) -> list | dict:
    outs = cb["output"] if isinstance(cb["output"], list) else [cb["output"]]
    specs = []
    for out in outs:
        concrete = _concrete(out.component_id_str(), rng)
        prop = out.component_property
        if isinstance(concrete, list):
            specs.append([{"id": c, "property": prop} for c in concrete])
        else:
            specs.append({"id": concrete, "property": prop})
    if isinstance(cb["output"], list):
        return specs
    return specs[0]


def _value(spec: dict, seen: dict, rng: random.Random, hostility: float) -> Any:
    real = seen.get((spec["id"], spec["property"]))
    if real and rng.random() >= hostility:
        return rng.choice(real)
    return hostile(rng)


def well_shaped(key: str, cb: dict, rng: random.Random, seen: dict) -> dict:
    """A request for callback ``key`` shaped as the renderer shapes it. Values: hostile, or
    (half the time) real values seen in the pages with a few hostile ones among them, so the
    hostile value reaches the code behind the first checks."""
    hostility = 1.0 if rng.random() < 0.5 else rng.choice([0.1, 0.3])
    inputs = _deps(cb["inputs"], [_value(s, seen, rng, hostility) for s in cb["inputs"]])
    state = _deps(cb["state"], [_value(s, seen, rng, hostility) for s in cb["state"]])
    changed = rng.sample(cb["inputs"], k=rng.randint(0, len(cb["inputs"])))
    return {
        "output": key,
        "outputs": _outputs(cb, rng),
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"{s['id']}.{s['property']}" for s in changed],
    }


def misshaped(key: str, cb: dict, rng: random.Random) -> Any:
    """A request for callback ``key`` with one thing wrong in its shape."""
    body = well_shaped(key, cb, rng, {})
    part = rng.choice(["inputs", "state", "outputs", "output", "changedPropIds", "body"])
    how = rng.randrange(5)
    if part == "body":
        return rng.choice([[], "x", 3, None, [body], {"output": body}])
    if part == "output":
        body["output"] = rng.choice([hostile(rng), key + "x", "", "..a.b...c.d..", ROUTER_OUTPUT])
    elif how == 0:
        body.pop(part, None)
    elif how == 1 and isinstance(body[part], list) and body[part]:
        body[part].pop(rng.randrange(len(body[part])))
    elif how == 2 and isinstance(body[part], list):
        body[part].append(rng.choice([{"id": "x", "property": "y", "value": 1}, hostile(rng)]))
    elif how == 3:
        body[part] = hostile(rng)
    elif isinstance(body[part], list) and body[part] and isinstance(body[part][0], dict):
        body[part][0] = {**body[part][0], rng.choice(["id", "property"]): hostile(rng)}
    else:
        body[part] = {"id": hostile(rng), "property": hostile(rng)}
    return body


# -- hostile page URLs ----------------------------------------------------------------------
QUERY_KEYS = [*FILTER_KEYS, "view", "specials", "layer", "head", "token", "ref", "stat", "method"]
QUERY_KEYS += ["methods", "density"]  # the example page's tracks
QUERY_KEYS += ["a", "b", "sim", "source"]  # the compare page and its side-by-side view


def hostile_url(rng: random.Random) -> str:
    """A path (some odd encodings) and a query string of known and unknown keys."""
    example = rng.choice(
        [
            "1",
            "3",
            "0",
            "-1",
            "60",
            "61",
            "999999999999999999999",
            str(2**63),
            "9" * 5000,
            "abc",
            "1.0",
            "%ff",
            "%00",
            "%zz",
            "..%2F..",
            "3/4",
            "",
            "٣",
            quote("ünïcødé"),
            quote("😀"),
            "a" * 3000,
        ]
    )
    path = rng.choice(
        [
            "/",
            "/heads",
            "/faithfulness",
            "/views",
            f"/example/{example}",
            f"//example//{example}/",
            "/nope",
            "/compare",
            "/compare/example",
        ]
    )
    pairs = []
    for _ in range(rng.choice([0, 1, 3, 8, 40])):
        key = rng.choice([*QUERY_KEYS, "example_id", "zzz", "ü", "", "a" * 500])
        value = hostile(rng, 3)
        if not isinstance(value, str):
            value = json.dumps(value)[:3000] if rng.random() < 0.5 else str(value)[:3000]
        pairs.append((key, value))
    if rng.random() < 0.8:  # lone surrogates become invalid UTF-8 escapes (%ED%A0%80)
        query = urlencode(pairs, safe=",", errors="surrogatepass")
    else:
        query = "&".join(k + "=%" for k, _ in pairs)
    return path + ("?" + query if query or rng.random() < 0.5 else "")


def _route(pathname: str, search: str = "") -> dict:
    """The body of the page router's callback for ``pathname?search``."""
    return {
        "output": ROUTER_OUTPUT,
        "outputs": [
            {"id": "_pages_content", "property": "children"},
            {"id": "_pages_store", "property": "data"},
        ],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname"],
    }


def real_values(session: requests.Session, base: str) -> dict[tuple[str, str], list]:
    """{(component id, property): values} found in the pages the router renders."""
    seen: dict[tuple[str, str], list] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            props = node.get("props", {})
            if isinstance(props, dict) and isinstance(props.get("id"), str):
                for prop, value in props.items():
                    seen.setdefault((props["id"], prop), []).append(value)
            for value in node.values():
                walk(value)

    pages = ("/", "/heads", "/faithfulness", "/example/3", "/example/40", "/views", "/compare")
    for path in pages:
        search = "?a=1&b=2&method=ig" if path == "/compare" else "?layer=1&head=2"
        answer = session.post(base + ENDPOINT, json=_route(path, search), timeout=60)
        walk(answer.json())
    return seen


# -- the server ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    url, _ = build_store(tmp_path_factory.mktemp("fuzz"))
    engine = make_engine(url)  # a second run over the same examples: the compare page's pair
    run_b = fill_synthetic_store(
        engine, N_EXAMPLES, 2, 3, 8, 40, 8, run_name="b", full_max_tokens=24
    )
    with engine.begin() as connection:  # synthetic source indexes are ids: make B's shared
        connection.execute(
            text("UPDATE examples SET source_index = source_index - :n WHERE run_id = :run"),
            {"n": N_EXAMPLES, "run": run_b},
        )
    engine.dispose()
    writer = NotesWriter(url)  # notes and a view, so edit / delete / the views page have rows
    writer.add_note(3, "ann", "a *note*", "negation, sink-head", "/example/3")
    writer.add_note(40, "bob", "<script>x</script>", "negation")
    writer.save_view("saved", "", "/?tag=negation", "ann")
    writer.dispose()
    app = create_app(url)
    httpd = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    requests.get(base + "/", timeout=30).raise_for_status()  # first request registers the router
    yield base, app
    httpd.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.WARNING, logger="werkzeug")  # one access line per request
    return caplog


def server_callbacks(app: Any) -> dict[str, dict]:
    """Callbacks that run on the server (client-side ones have no Python function)."""
    return {k: cb for k, cb in app.callback_map.items() if "callback" in cb}


def _post(session: requests.Session, base: str, body: Any) -> int:
    data = json.dumps(body) if not isinstance(body, bytes) else body
    headers = {"Content-Type": "application/json"}
    return session.post(base + ENDPOINT, data=data, headers=headers, timeout=60).status_code


def _check(failures: list[str], log: pytest.LogCaptureFixture) -> None:
    assert not failures, f"seed {SEED}: {len(failures)} answered 500, first: " + "\n".join(
        failures[:5]
    )
    assert "Traceback" not in log.text, f"seed {SEED}: a traceback was logged:\n{log.text[:4000]}"


def test_every_server_callback_is_fuzzed(server) -> None:
    _, app = server
    keys = server_callbacks(app)
    assert ROUTER_OUTPUT in keys and len(keys) >= 10
    writes = ("notes-message.children", "save-view-message.children", "author-store.data")
    assert all(any(w in k for k in keys) for w in writes)  # the reading group's callbacks too
    assert all(callable(cb["callback"]) for cb in keys.values())
    assert any("compare-distribution.figure" in k for k in keys)


def test_callbacks_survive_hostile_values(server, log) -> None:
    base, app = server
    callbacks = server_callbacks(app)
    keys = sorted(k for k in callbacks if k != ROUTER_OUTPUT)
    rng = random.Random(SEED)
    failures: list[str] = []
    seen: dict[int, int] = {}
    with requests.Session() as session:
        seen_values = real_values(session, base)
        assert ("example-id", "data") in seen_values
        assert ("compare-method", "options") in seen_values  # the compare page had a pair
        for case in range(N_VALUES):
            key = keys[case % len(keys)]
            body = well_shaped(key, callbacks[key], rng, seen_values)
            status = _post(session, base, body)
            seen[status] = seen.get(status, 0) + 1
            if status >= 500:
                failures.append(f"case {case} {key}: {json.dumps(body)[:600]}")
    _check(failures, log)
    assert seen.get(200, 0) > N_VALUES // 4, seen  # most hostile values still get an answer


def test_callback_requests_of_the_wrong_shape_are_refused(server, log) -> None:
    base, app = server
    callbacks = server_callbacks(app)
    keys = sorted(callbacks)
    rng = random.Random(SEED + 1)
    failures: list[str] = []
    with requests.Session() as session:
        for case in range(N_SHAPES):
            key = keys[case % len(keys)]
            body = misshaped(key, callbacks[key], rng)
            if case % 50 == 0:
                body = rng.choice([b"{not json", b"", b"\xff\xfe", b"[" * 5000])
            status = _post(session, base, body)
            if status >= 500:
                failures.append(f"case {case} {key}: {str(body)[:600]}")
    _check(failures, log)


def _get(base: str, url: str) -> int:
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request("GET", quote(url, safe="/?&=%,:+;@"))
        return conn.getresponse().status
    finally:
        conn.close()


def test_page_router_survives_hostile_urls(server, log) -> None:
    base, _ = server
    rng = random.Random(SEED + 2)
    failures: list[str] = []
    with requests.Session() as session:
        for case in range(N_ROUTES):
            url = hostile_url(rng)
            if case % 2 == 0:
                status = _get(base, url)
            else:
                path, _, search = url.partition("?")
                pathname = path if rng.random() < 0.9 else hostile(rng)
                body = _route(pathname, "?" + search)
                status = _post(session, base, body)
            if status >= 500:
                failures.append(f"case {case}: {url[:600]}")
    _check(failures, log)


def test_payload_count() -> None:
    assert N_VALUES + N_SHAPES + N_ROUTES >= 2000


def test_a_failing_callback_is_logged_with_its_request_and_shown_kindly(
    server,
    log,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dash

    base, _ = server

    def broken(**_query: Any) -> None:
        raise RuntimeError("layout bug")

    monkeypatch.setitem(
        dash.page_registry["attention_atlas.dashboard.pages.heads"], "layout", broken
    )
    answer = requests.post(base + ENDPOINT, json=_route("/heads"), timeout=60)
    assert answer.status_code == 200 and "layout bug" not in answer.text
    assert answer.json()["sideUpdate"]["error-banner"]["children"].startswith("Something went")
    assert ROUTER_OUTPUT in log.text and "RuntimeError: layout bug" in log.text


def test_an_escaped_page_error_answers_a_friendly_page(
    server,
    log,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, app = server

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("route bug")

    monkeypatch.setitem(app.server.view_functions, "/", broken)
    answer = requests.get(base + "/?q=1", timeout=60)
    assert answer.status_code == 500 and "Something went wrong" in answer.text
    assert "route bug" not in answer.text and "Traceback" not in answer.text
    assert "GET /" in log.text and "RuntimeError: route bug" in log.text


@pytest.mark.parametrize(
    "path",
    [
        f"/example/{2 * N_EXAMPLES + 1}",  # the first id past both runs
        "/example/999999999999999999999",
        "/example/-3",
        "/example/%ff",
    ],
)
def test_missing_examples_show_not_found(server, path: str) -> None:
    base, _ = server
    answer = requests.post(base + ENDPOINT, json=_route(path, "?layer=99"), timeout=60)
    assert answer.status_code == 200 and "Example not found" in answer.text
