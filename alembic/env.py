"""Alembic environment: migrations against the models' metadata.

The engine comes from ``config.attributes["engine"]`` (set by ``db.migrate``) or, for the plain
``alembic`` command, from ``ATLAS_DATABASE_URL`` / ``sqlite:///atlas.db``.
"""

from alembic import context

from attention_atlas.db.engine import make_engine
from attention_atlas.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or make_engine(None)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
