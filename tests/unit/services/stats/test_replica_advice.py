"""The pool advice accounts for read replicas' pools."""

from __future__ import annotations

from inventory_server.db.replicas import ReplicaFigure, ReplicaFigures
from inventory_server.services.stats.figures import Recommendation
from inventory_server.services.stats.service import with_replicas


def test_the_advice_names_the_replicas_their_share_and_their_connection_budget() -> None:
    figures = ReplicaFigures(
        [ReplicaFigure("a", "healthy", 0.0, 0, 90, 0), ReplicaFigure("b", "lagging", 9.0, 10, 0, 0)], 10
    )
    advice = with_replicas(Recommendation(12, "the current size fits"), figures, 12)
    assert advice.max_size == 12
    assert "2 read replica(s) (1 usable, 90% of eligible reads served there)" in advice.reason
    assert "up to 12 connections on every standby" in advice.reason
