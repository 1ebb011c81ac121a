"""``attention-atlas serve`` (the venv's console script, so gunicorn) in a subprocess, and a
small HTTP client for it: plain GETs and the Dash callbacks a browser makes on page load."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

ATLAS = Path(sys.executable).with_name("attention-atlas")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    """A running ``attention-atlas serve``: its base URL, process and captured output."""

    base: str
    proc: subprocess.Popen
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def fetch(
    url: str,
    *,
    data: dict | None = None,
    headers: dict[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    """GET (or POST JSON ``data``) ``url``; any HTTP status is an answer, not an exception.
    The body is returned as sent (still compressed when the server compressed it)."""
    headers = dict(headers or {})
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    request = Request(url, data=body, headers=headers)
    try:
        with urlopen(request, timeout=timeout) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except HTTPError as exc:
        return Answer(exc.code, dict(exc.headers), exc.read())


@contextmanager
def serving(
    db_url: str,
    folder: Path,
    *args: str,
    env: dict[str, str] | None = None,
    http_ready: bool = True,
    **popen: Any,
) -> Iterator[Served]:
    """``attention-atlas serve --db db_url --port FREE *args`` for the block, answering HTTP
    (any status) when the block starts, or only accepting connections (no request made yet)
    when not ``http_ready``; output goes to ``folder``/serve.out and serve.err."""
    port = free_port()
    out, err = folder / "serve.out", folder / "serve.err"
    command = [str(ATLAS), "serve", "--db", db_url, "--port", str(port), *args]
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            command,
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            **popen,
        )
    served = Served(f"http://127.0.0.1:{port}", proc, out, err)
    try:
        _wait_until_up(served, http_ready)
        yield served
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_up(served: Served, http_ready: bool, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    port = int(served.base.rsplit(":", 1)[1])
    while time.monotonic() < deadline:
        if served.proc.poll() is not None:
            raise AssertionError(f"serve exited {served.proc.returncode}:\n{served.output()}")
        try:
            if http_ready:
                fetch(served.base + "/_dash-layout", timeout=2)
            else:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"serve did not answer in {timeout} s:\n{served.output()}")


# -- Dash callbacks as a browser makes them on page load ----------------------------------
def _props_by_id(tree: Any, found: dict[str, dict] | None = None) -> dict[str, dict]:
    """{component id: props} of every component with a string id in a layout's JSON."""
    found = {} if found is None else found
    if isinstance(tree, list):
        for item in tree:
            _props_by_id(item, found)
    elif isinstance(tree, dict):
        props = tree.get("props")
        if isinstance(props, dict) and "type" in tree:
            if isinstance(props.get("id"), str):
                found[props["id"]] = props
            for value in props.values():
                _props_by_id(value, found)
    return found


def _outputs(spec: str) -> list[dict[str, str]]:
    """Dash's output string (``id.prop`` or ``..a.p...b.q..``, maybe ``@hash``) as a list."""
    multi = spec.startswith("..")
    parts = spec[2:-2].split("...") if multi else [spec]
    outputs = []
    for part in parts:
        component, prop = part.split("@")[0].rsplit(".", 1)
        outputs.append({"id": component, "property": prop})
    return outputs if multi else outputs[0]


def initial_callbacks(
    base: str, layout_tree: Any, dependencies: list[dict], **fetch_args: Any
) -> list[tuple[str, int]]:
    """Post every server-side callback whose inputs are all in ``layout_tree`` with their
    values there, as the renderer does when a page appears: [(output, status)]."""
    props = _props_by_id(layout_tree)
    answers = []
    for dep in dependencies:
        pattern_output = "{" in dep["output"]  # its outputs list would need expanding: skip
        if dep.get("clientside_function") or dep.get("prevent_initial_call") or pattern_output:
            continue
        ids = [item["id"] for item in dep["inputs"] + dep["state"]]
        if not dep["inputs"] or not all(isinstance(i, str) and i in props for i in ids):
            continue

        def values(items: list[dict]) -> list[dict]:
            return [
                {**item, "value": props[item["id"]].get(item["property"])}  # noqa: B023
                for item in items
            ]

        payload = {
            "output": dep["output"],
            "outputs": _outputs(dep["output"]),
            "inputs": values(dep["inputs"]),
            "state": values(dep["state"]),
            "changedPropIds": [],
        }
        answer = fetch(base + "/_dash-update-component", data=payload, **fetch_args)
        answers.append((dep["output"], answer.status))
    return answers


def page_callbacks(base: str, path: str, **fetch_args: Any) -> list[tuple[str, int]]:
    """The router callback for ``path`` (its page layout), then that layout's initial
    callbacks: [(output, status)] for each request made."""
    dependencies = json.loads(fetch(base + "/_dash-dependencies", **fetch_args).body)
    pathname, mark, search = path.partition("?")
    router = next(d for d in dependencies if d["output"].startswith(".._pages_content"))
    payload = {
        "output": router["output"],
        "outputs": _outputs(router["output"]),
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {
                "id": "_pages_location",
                "property": "search",
                "value": f"?{search}" if search else "",
            },
        ],
        "state": [],
        "changedPropIds": ["_pages_location.pathname"],
    }
    answer = fetch(base + "/_dash-update-component", data=payload, **fetch_args)
    answers = [(router["output"], answer.status)]
    if answer.status == 200:
        shell = json.loads(fetch(base + "/_dash-layout", **fetch_args).body)
        content = json.loads(answer.body)["response"]["_pages_content"]["children"]
        answers += initial_callbacks(base, [shell, content], dependencies, **fetch_args)
    return answers
