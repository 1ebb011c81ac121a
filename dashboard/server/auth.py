"""Optional HTTP basic auth for a shared deployment, from an auth file of ``user:hash`` lines.

The file holds one ``name:hash`` line per user, the hash a salted one from werkzeug's
``generate_password_hash`` (scrypt); blank lines and ``#`` comments are allowed.
``attention-atlas users add NAME --auth-file F`` writes lines (:func:`set_user`); ``serve
--auth-file F`` (or ``ATLAS_AUTH_FILE`` for :func:`dashboard.server.app.make_server`) reads them
(:func:`read_auth_file`) and :func:`require_basic_auth` puts every route of the Flask server
behind them: pages, assets, component bundles and ``/_dash-*`` alike.

A scrypt check costs ~0.1 s, and a page load makes dozens of requests with the same
credentials, so a password that verified once is remembered for the process as a keyed
digest (never the password itself).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import flask
from werkzeug.security import check_password_hash, generate_password_hash

AUTH_FILE_ENV = "ATLAS_AUTH_FILE"
REALM = "Attention Atlas"


class AuthFileError(Exception):
    """The auth file is missing, unreadable or malformed (one line for the user)."""


def check_user_name(name: str) -> str:
    """``name`` if it can stand before the ``:`` of an auth line; else AuthFileError."""
    if not name or name != name.strip() or ":" in name or any(c.isspace() for c in name):
        raise AuthFileError(f"user name {name!r} must be non-empty, without ':' or spaces")
    return name


def read_auth_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """``{name: password hash}`` from the auth file at ``path``; AuthFileError when the file is
    missing, unreadable, has a malformed line, or names no user."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise AuthFileError(f"cannot read auth file {os.fspath(path)}: {reason}") from None
    users: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, hashed = line.partition(":")
        if not sep or not name or "$" not in hashed or any(c.isspace() for c in name):
            raise AuthFileError(
                f"auth file {os.fspath(path)} line {number} is not 'user:password-hash' "
                "(write lines with `attention-atlas users add NAME --auth-file FILE`)"
            )
        users[name] = hashed
    if not users:
        raise AuthFileError(
            f"auth file {os.fspath(path)} names no user "
            "(add one with `attention-atlas users add NAME --auth-file FILE`)"
        )
    return users


def set_user(path: str | os.PathLike[str], name: str, password: str) -> bool:
    """Write ``name``'s line with a fresh salted hash of ``password`` into the auth file,
    replacing an existing line for ``name`` and keeping every other line; the file is created
    (mode 0600) when missing. True when a line was replaced."""
    check_user_name(name)
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines() if file.exists() else []
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthFileError(f"cannot read auth file {file}: {exc}") from None
    entry = f"{name}:{generate_password_hash(password)}"
    replaced = False
    for i, line in enumerate(lines):
        if line.strip().partition(":")[0] == name:
            lines[i], replaced = entry, True
    if not replaced:
        lines.append(entry)
    tmp = file.with_name(f".{file.name}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        os.replace(tmp, file)  # readers never see half a file
    except OSError as exc:
        raise AuthFileError(f"cannot write auth file {file}: {exc.strerror or exc}") from None
    return replaced


class BasicAuth:
    """Checks a request's basic-auth credentials against ``users`` (name -> password hash)."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self.users = dict(users)
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, bytes] = {}  # name -> keyed digest of a password that passed
        # checked for unknown names too, so the answer's timing does not tell which names exist
        self._decoy = generate_password_hash(secrets.token_urlsafe(16))

    def _digest(self, name: str, password: str) -> bytes:
        return hmac.new(self._key, f"{name}\0{password}".encode(), hashlib.sha256).digest()

    def allows(self, name: str | None, password: str | None) -> bool:
        if name is None or password is None:
            return False
        digest = self._digest(name, password)
        known = self._verified.get(name)
        if known is not None and hmac.compare_digest(known, digest):
            return True
        if not check_password_hash(self.users.get(name, self._decoy), password):
            return False
        if name not in self.users:  # the decoy's password is never known, but be explicit
            return False
        self._verified[name] = digest
        return True

    def __call__(self) -> flask.Response | None:
        """A Flask ``before_request`` hook: None lets the request through, else a 401."""
        auth = flask.request.authorization
        if auth is not None and auth.type == "basic" and self.allows(auth.username, auth.password):
            return None
        response = flask.Response("Authentication required.\n", 401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
        return response


def require_basic_auth(server: flask.Flask, users: Mapping[str, str]) -> None:
    """Put every route of ``server`` behind HTTP basic auth for ``users``."""
    server.before_request(BasicAuth(users))


def auth_file_from_env() -> str | None:
    """The auth file named by ``ATLAS_AUTH_FILE``, or None when it is unset or empty."""
    return os.environ.get(AUTH_FILE_ENV) or None
