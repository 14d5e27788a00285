"""Ctrl-C is never lost: a SIGINT whose KeyboardInterrupt Python swallows (raised inside a
`__del__` or a garbage-collection callback, printed as "Exception ignored in …") still ends
the command with exit code 130."""

from __future__ import annotations

import os
import signal
import sys

from etl.cli import main
from etl.cli._interrupt import interrupt_guard
from etl.settings import Settings


class SwallowsInterrupt:
    """Sends SIGINT to this process from `__del__` and keeps running there, so the signal
    handler's KeyboardInterrupt is raised inside `__del__`, where Python ignores it."""

    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(200_000):
            pass


def drop_one_swallowed_interrupt(monkeypatch) -> list[BaseException]:
    """Runs a SwallowsInterrupt's `__del__`; returns the exceptions Python ignored."""
    ignored: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: ignored.append(u.exc_value))
    victim = SwallowsInterrupt()
    del victim
    return ignored


def test_the_guard_remembers_an_interrupt_python_swallowed(monkeypatch) -> None:
    before = signal.getsignal(signal.SIGINT)
    with interrupt_guard() as interrupted:
        ignored = drop_one_swallowed_interrupt(monkeypatch)
    assert [type(e) for e in ignored] == [KeyboardInterrupt]  # it was swallowed …
    assert interrupted.is_set()  # … and remembered
    assert signal.getsignal(signal.SIGINT) is before


def test_a_command_whose_interrupt_was_swallowed_exits_130(tmp_path, monkeypatch,
                                                            capsys) -> None:
    sources = tmp_path / "sources.yml"
    sources.write_text("sources:\n- {name: desk, kind: files, location: desk}\n")
    real_load = Settings.load.__func__

    def load_then_swallow(cls, **kwargs):
        drop_one_swallowed_interrupt(monkeypatch)
        return real_load(cls, **kwargs)

    monkeypatch.setattr(Settings, "load", classmethod(load_then_swallow))
    assert main(["sources", str(sources)]) == 130
    assert "news-etl: interrupted" in capsys.readouterr().err


def test_a_swallowed_interrupt_prints_no_traceback(capfd, monkeypatch) -> None:
    # Python's own hook, which prints "Exception ignored in … Traceback" (pytest's would
    # turn it into a warning instead).
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    hook = sys.unraisablehook
    with interrupt_guard() as interrupted:
        victim = SwallowsInterrupt()
        del victim
    assert interrupted.is_set()
    assert "Traceback" not in capfd.readouterr().err
    assert sys.unraisablehook is hook
