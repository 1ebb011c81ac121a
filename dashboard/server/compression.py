"""Compressed responses (flask-compress): zstd, brotli or gzip, whichever the client accepts.

Dash's JavaScript is megabytes (``plotly.min.js`` alone is 4.8 MB, 1.4 MB as brotli), so every
response a client accepts compressed is sent compressed: pages, ``/_dash-*`` JSON, component
bundles and ``/assets`` files (which Flask streams, and flask-compress leaves gzip out of its
streaming algorithms by default: curl and scripts ask for gzip only).

Compressing plotly costs ~0.1 s of CPU, and each worker would pay it again for every new
browser. A component bundle's URL names one file of an installed package (fingerprinted with
its version and file time), so one URL is one body while the server runs: their compressed
bodies are kept per worker (a few MB) instead of being recompressed.
"""

from __future__ import annotations

import threading

import flask
from flask_compress import Compress

BUNDLES = "/_dash-component-suites/"
_ALGORITHMS = ["zstd", "br", "gzip", "deflate"]  # flask-compress's order, gzip kept for streams


class _BundleCache:
    """flask-compress's cache backend: keeps bodies whose key names a component bundle
    (``ALGORITHM;/_dash-component-suites/...``), ignores every other key."""

    def __init__(self, max_items: int = 256) -> None:
        self.max_items = max_items
        self._items: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _cacheable(key: str) -> bool:
        return key.partition(";")[2].startswith(BUNDLES)

    def get(self, key: str) -> bytes | None:
        return self._items.get(key) if self._cacheable(key) else None

    def set(self, key: str, value: bytes) -> None:
        if not self._cacheable(key):
            return
        with self._lock:
            if key in self._items or len(self._items) < self.max_items:
                self._items[key] = value


def _cache_key(request: flask.Request) -> str:
    """The bundle's path for a GET of a component bundle, else "" (not cached)."""
    if request.method == "GET" and request.path.startswith(BUNDLES):
        return request.full_path
    return ""


def enable_compression(server: flask.Flask) -> Compress:
    """Compress ``server``'s responses for clients that accept it (after_request hook)."""
    server.config.update(
        COMPRESS_ALGORITHM=_ALGORITHMS,
        COMPRESS_ALGORITHM_STREAMING=_ALGORITHMS,
        COMPRESS_CACHE_BACKEND=_BundleCache,
        COMPRESS_CACHE_KEY=_cache_key,
    )
    return Compress(server)
