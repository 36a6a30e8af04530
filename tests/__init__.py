"""The test suite: one package tree, laid out as ``tests/<tier>/<part>/``.

Tiers: ``unit`` (no I/O), ``integration`` (real PostgreSQL), ``e2e`` (a real
server process through the client). Parts follow the code they test: the
server's packages (``api``, ``cache``, ``config``, ``db``, ``domain``,
``migrate``, ``repositories``, ``services``) plus ``client`` and ``deploy``.
Shared test code imports as ``tests.<path>`` (``tests.unit.fakes``,
``tests.pg_cluster``).
"""
