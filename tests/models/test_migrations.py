"""Alembic from empty must produce exactly the schema the models declare, on both backends."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

import models
from portal.migrate import upgrade
from tests.conftest import drop_pg_database, new_pg_database, require


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrade_from_empty_matches_models(backend: str, tmp_path: Path) -> None:
    if backend == "postgres":
        require("postgres")
        url = new_pg_database()
    else:
        url = f"sqlite:///{tmp_path / 'm.db'}"
    try:
        upgrade(url)
        engine = create_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), models.Base.metadata)
        engine.dispose()
        assert diff == [], f"migrations and models disagree: {diff}"
    finally:
        if backend == "postgres":
            drop_pg_database(url)
