"""Ctrl-C that is never lost.

Python raises KeyboardInterrupt wherever the main thread happens to be when SIGINT
arrives. If that is a garbage-collection callback or a `__del__` (SQLAlchemy has such
callbacks), the exception is printed as "Exception ignored in …" and swallowed, and the
run goes on to its end as if nothing had been pressed. The guard remembers the signal, so
the command can still end with exit code 130 when the interrupt itself was swallowed, and
keeps that swallowed interrupt from printing a traceback ("no traceback on Ctrl-C").
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def interrupt_guard() -> Iterator[threading.Event]:
    """While inside: SIGINT sets the yielded event, then raises KeyboardInterrupt as usual;
    one that Python swallows is not printed. The previous handler and hook are restored on
    the way out. Outside the main thread (where no handler can be installed) the event is
    returned and never set."""
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return

    def on_sigint(_signum: int, _frame: FrameType | None) -> None:
        interrupted.set()
        raise KeyboardInterrupt

    def quiet_when_interrupted(unraisable) -> None:  # sys.UnraisableHookArgs
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            return  # remembered by on_sigint; the command ends with 130
        previous_hook(unraisable)

    previous = signal.signal(signal.SIGINT, on_sigint)
    previous_hook, sys.unraisablehook = sys.unraisablehook, quiet_when_interrupted
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)
        sys.unraisablehook = previous_hook
