"""hongbao.logs writes to whatever stderr is when a line is written: a command run inside another program (CliRunner
in tests, a host embedding the CLI) swaps stderr and closes the old stream, and every later line failed with
"--- Logging error ---" (seen in CI: it broke the JSON a later command printed)."""

from __future__ import annotations

import io
import logging
import sys

import pytest

from hongbao.logs import configure


def test_log_lines_follow_stderr_when_it_is_swapped_and_the_old_one_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    first, second = io.StringIO(), io.StringIO()
    try:
        monkeypatch.setattr(sys, "stderr", first)
        configure("text", "info")
        logging.getLogger("hongbao.test").info("to the first")
        first.close()  # the runner of the first command is done
        monkeypatch.setattr(sys, "stderr", second)
        logging.getLogger("hongbao.test").info("to the second")
        assert "to the second" in second.getvalue() and "Logging error" not in second.getvalue()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
