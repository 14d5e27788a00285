"""The CLI's main run inside a test process: what its configure_logging changes there (root
handlers and level, the loggers it quiets) is given back afterwards, so the next test logs
as before."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from etl.cli import QUIETED_LOGGERS


@contextmanager
def cli_logging_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in QUIETED_LOGGERS}
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers, root.level = handlers, level
        for name, saved in levels.items():
            logging.getLogger(name).setLevel(saved)
