"""PostgreSQL connection strings made safe to print: the one masker for the server and the migrator.

It lives at the top of the package, importing nothing of the server, so that
both the service (``config``, ``db``) and the stand-alone migration engine
(``migrate``) use it without the migrator depending on the service's layers.
"""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict, make_conninfo

MASK = "***"

# libpq keywords whose value is a secret. ``password`` and ``sslpassword`` (the passphrase of
# the client key) are the two libpq defines today; any future keyword naming a password,
# secret or token is masked too, so that a new libpq release cannot leak through this module.
SECRET_KEYWORDS = frozenset({"password", "sslpassword"})
_SECRET_WORDS = ("password", "secret", "token")


def is_secret_keyword(keyword: str) -> bool:
    """Whether a DSN keyword carries a secret.

    >>> [is_secret_keyword(k) for k in ("password", "sslpassword", "sslkey", "user")]
    [True, True, False, False]
    """
    lowered = keyword.lower()
    return lowered in SECRET_KEYWORDS or any(word in lowered for word in _SECRET_WORDS)


def mask_dsn(dsn: str) -> str:
    """The DSN with every secret-bearing parameter replaced by ``***`` (safe to print or log).

    >>> mask_dsn("postgresql://app:s3cret@db:5432/inventory?sslpassword=k3y")
    'user=app password=*** dbname=inventory host=db port=5432 sslpassword=***'
    >>> mask_dsn("host=db password='a b'")
    'password=*** host=db'
    >>> mask_dsn("postgresql://app:s3cret@db:5432/inventory?bogus=1")
    '<unparsable DSN>'
    """
    try:
        params = conninfo_to_dict(dsn)
    except Exception:  # psycopg.ProgrammingError and friends; the text may hold the secret
        return "<unparsable DSN>"
    masked = {key: MASK if is_secret_keyword(key) else value for key, value in params.items()}
    return make_conninfo("", **masked)


def secrets_in(dsn: str) -> list[str]:
    """The secret-bearing keywords a DSN sets (empty when unparsable or none).

    >>> secrets_in("postgresql://app:s3cret@db/inventory")
    ['password']
    >>> secrets_in("host=db user=app")
    []
    """
    try:
        params = conninfo_to_dict(dsn)
    except Exception:
        return []
    return [key for key, value in params.items() if is_secret_keyword(key) and value not in (None, "")]
