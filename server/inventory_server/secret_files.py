"""Secret settings read from files, and the warning for secrets passed on the command line.

``DATABASE_URL_FILE=/var/run/secrets/inventory/database-url`` reads the value
of ``DATABASE_URL`` from that file: a Kubernetes Secret mounted as a volume
keeps the password out of the process environment (``/proc/<pid>/environ``,
``kubectl describe``) and out of ``argv`` (``ps``). Every secret setting has
such a ``*_FILE`` twin. Rules (the same for the server and the migrator):

- the value and its ``*_FILE`` twin set together is an error (which one was
  meant cannot be guessed), at the same level: two flags, or two variables;
- a flag beats the environment, as for every other setting;
- surrounding whitespace, including the trailing newline most tools write,
  is stripped; an empty or unreadable file is an error naming the variable
  and the path, never the content.

Like ``dsn``, this module imports nothing of the server's layers, so the
stand-alone migrator uses it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from inventory_server.dsn import secrets_in

FILE_SUFFIX = "_FILE"


class SecretFileError(ValueError):
    """A secret could not be read, or was given twice."""


def read_secret_file(path: str | Path, source: str) -> str:
    """The stripped text of ``path``; ``source`` names where the path came from (for errors).

    >>> read_secret_file("/nonexistent/secret", "DATABASE_URL_FILE")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    inventory_server.secret_files.SecretFileError: DATABASE_URL_FILE: cannot read /nonexistent/secret: ...
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SecretFileError(f"{source}: cannot read {path}: {exc.strerror or exc}") from None
    try:
        value = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SecretFileError(f"{source}: {path} is not UTF-8 text") from None
    if not value:
        raise SecretFileError(f"{source}: {path} is empty")
    return value


def pick_secret(direct: str | None, file: str | None, direct_name: str, file_name: str) -> str | None:
    """The value from ``direct`` or read from ``file``; both given is an error; neither is None.

    >>> pick_secret("postgresql://db/x", None, "DATABASE_URL", "DATABASE_URL_FILE")
    'postgresql://db/x'
    >>> pick_secret("a", "/run/secret", "--database-url", "--database-url-file")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    inventory_server.secret_files.SecretFileError: both --database-url and --database-url-file are set; ...
    """
    if direct and file:
        raise SecretFileError(f"both {direct_name} and {file_name} are set; set only one")
    if file:
        return read_secret_file(file, file_name)
    return direct or None


def secret_from_environment(variable: str, environ: Mapping[str, str]) -> str | None:
    """``variable`` or the content of the file named by ``variable + "_FILE"`` (None when neither).

    >>> secret_from_environment("DATABASE_URL", {"DATABASE_URL": "host=db"})
    'host=db'
    >>> secret_from_environment("DATABASE_URL", {}) is None
    True
    """
    file_variable = variable + FILE_SUFFIX
    return pick_secret(environ.get(variable), environ.get(file_variable), variable, file_variable)


def command_line_password_warning(flag: str, dsn: str | None, *, alternatives: str) -> str | None:
    """A warning when a DSN given as ``flag`` carries a secret (it shows in ``ps``), else None.

    The warning names the flag and the secret keywords, never their values.

    >>> command_line_password_warning("--database-url", "host=db", alternatives="DATABASE_URL_FILE")
    >>> warning = command_line_password_warning(
    ...     "--database-url", "postgresql://u:pw@db/x", alternatives="DATABASE_URL_FILE")
    >>> print(warning[:53])
    warning: --database-url carries a password (password)
    >>> "pw" in warning, warning.endswith("use DATABASE_URL_FILE instead")
    (False, True)
    """
    if not dsn:
        return None
    found = secrets_in(dsn)
    if not found:
        return None
    return (
        f"warning: {flag} carries a password ({', '.join(found)}), which any user of this machine "
        f"can read in the process list; use {alternatives} instead"
    )
