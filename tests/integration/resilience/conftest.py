"""Fixtures for the resilience tests: a throwaway PostgreSQL the test may stop and restart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pg_cluster import PgCluster, throwaway_cluster


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    """A PostgreSQL of this test's own (never the shared one on 5432)."""
    with throwaway_cluster() as started:
        yield started
