"""A file whose parsed content is reloaded when the file changes, keeping the last good one.

Used for the JWKS and the policy: operators replace them (a Kubernetes
ConfigMap or Secret update swaps a symlink) and the server picks them up
without a restart. The file's identity (device, inode, size, mtime) is
checked at most once per ``check_interval`` seconds, on use, so no thread or
task is needed and an idle server does no work. A new content that fails to
parse is logged (the parser's message, which must not quote secrets) and the
previous content stays in force: a typo must never open or close the service.
At start-up, ``load`` raises instead, so a bad file fails fast.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

Signature = tuple[int, int, int, int]


class FileLoadError(ValueError):
    """The file cannot be read or parsed; the message names the file, never quotes a secret."""


def _signature(path: Path) -> Signature:
    stat = path.stat()  # follows symlinks: a swapped ConfigMap link is a new inode
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


class WatchedFile(Generic[T]):
    """``current()`` is the parsed content of ``path``, re-read when the file changed.

    ``parse(text)`` raises ``ValueError`` (its message is logged) for content
    that cannot be used.
    """

    def __init__(
        self,
        path: Path,
        parse: Callable[[str], T],
        what: str,
        *,
        check_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.parse = parse
        self.what = what
        self.check_interval = check_interval
        self.clock = clock
        self.reloads = 0
        self.failures = 0
        self._value: T | None = None
        self._signature: Signature | None = None
        self._failed_signature: Signature | None = None
        self._checked_at = float("-inf")

    def load(self) -> T:
        """Read and parse the file now; raises ``FileLoadError`` (start-up: fail fast)."""
        try:
            signature = _signature(self.path)
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise FileLoadError(f"{self.what} file {self.path} cannot be read: {reason}") from None
        try:
            value = self.parse(text)
        except ValueError as exc:
            raise FileLoadError(f"{self.what} file {self.path}: {exc}") from None
        self._value, self._signature = value, signature
        self._checked_at = self.clock()
        return value

    def current(self) -> T:
        """The content in force: reloaded first when the file changed since the last check."""
        now = self.clock()
        if self._value is None:
            return self.load()
        if now - self._checked_at >= self.check_interval:
            self._checked_at = now
            self._reload_if_changed()
        return self._value

    def _reload_if_changed(self) -> None:
        try:
            signature = _signature(self.path)
        except OSError as exc:
            if self._failed_signature is None:
                log.error(
                    "%s file %s is gone (%s); keeping the previous one", self.what, self.path, exc.strerror
                )
                self._failed_signature = (0, 0, 0, 0)
            return
        if signature == self._signature or signature == self._failed_signature:
            return
        try:
            self.load()
        except FileLoadError as exc:
            self.failures += 1
            self._failed_signature = signature  # log a bad version once, not on every call
            log.error("%s; keeping the previous %s", exc, self.what)
            return
        self._failed_signature = None
        self.reloads += 1
        log.info("%s file %s reloaded", self.what, self.path)
