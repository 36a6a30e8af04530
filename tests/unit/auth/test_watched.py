"""Files reloaded on change, keeping the last good content."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from inventory_server.auth.watched import FileLoadError, WatchedFile


def _parse(text: str) -> int:
    return int(text)  # ValueError for anything else


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _replace(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def test_a_changed_file_is_reloaded_after_the_check_interval(tmp_path: Path) -> None:
    path, clock = tmp_path / "n", Clock()
    path.write_text("1")
    watched = WatchedFile(path, _parse, "number", check_interval=1.0, clock=clock)
    assert watched.load() == 1
    _replace(path, "2")
    assert watched.current() == 1  # not checked again yet
    clock.now = 1.0
    assert watched.current() == 2
    assert watched.reloads == 1


def test_a_broken_version_keeps_the_previous_one_and_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, clock = tmp_path / "n", Clock()
    path.write_text("1")
    watched = WatchedFile(path, _parse, "number", check_interval=0, clock=clock)
    watched.load()
    _replace(path, "not a number")
    with caplog.at_level(logging.ERROR):
        assert watched.current() == 1
        assert watched.current() == 1
    assert len([r for r in caplog.records if "keeping the previous number" in r.getMessage()]) == 1
    _replace(path, "3")
    assert watched.current() == 3


def test_a_vanished_file_keeps_the_previous_content(tmp_path: Path) -> None:
    path = tmp_path / "n"
    path.write_text("1")
    watched = WatchedFile(path, _parse, "number", check_interval=0)
    watched.load()
    path.unlink()
    assert watched.current() == 1


def test_at_start_a_bad_file_fails_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileLoadError, match=r"number file .*missing.* cannot be read"):
        WatchedFile(tmp_path / "missing", _parse, "number").load()
    (tmp_path / "bad").write_text("x")
    with pytest.raises(FileLoadError, match=r"number file .*bad"):
        WatchedFile(tmp_path / "bad", _parse, "number").load()
