"""Alembic environment: run with a connection handed in by `credtrack init`
(config.attributes["connection"]) or with sqlalchemy.url set."""
from alembic import context
from sqlalchemy import engine_from_config, pool

from credential_track.models import metadata

config = context.config


def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    # the hotline search's FTS5 shadow tables are made by hand in 0002, not by the models
    return not (type_ == "table" and name and name.startswith("credential_fts"))


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        _run(conn)
