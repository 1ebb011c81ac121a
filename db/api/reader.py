"""The read API's one way to the database: sessions on a read-only engine, and the one
exception a user sees (:class:`StoreError`, a one-line message, never a SQLAlchemy traceback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from attention_atlas.db.engine import session_factory

P = ParamSpec("P")
T = TypeVar("T")


class StoreError(Exception):
    """A store, run or filter the read API cannot give: the message says which, in one line."""


class Reader:
    """Sessions on one read-only engine; every read goes through :meth:`read`."""

    def __init__(self, engine: Engine, where: str) -> None:
        self.engine, self.where = engine, where
        self._sessions = session_factory(engine)

    def read(self, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kw: P.kwargs) -> T:
        """``fn(session, ...)`` in a fresh session; database errors become :class:`StoreError`."""
        try:
            with self._sessions() as session:
                return fn(session, *args, **kw)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
            raise StoreError(f"cannot read {self.where}: {reason}") from None
