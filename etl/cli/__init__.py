"""`news-etl`: run the pipeline without Airflow.

An edge: `main` assembles the configuration (etl.settings.Settings: environment + flags),
configures logging, and passes values down to the library. Each subcommand is a module
of this package with `register(subparsers)` (and an ORDER for --help); `build_parser`
finds them, so a new command is a new file.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from etl.cli._interrupt import interrupt_guard
from etl.cli.common import EXIT_CODES_HELP, EXIT_RUN_FAILED, EXIT_USAGE
from etl.config import ConfigError
from etl.settings import Settings
from etl.warehouse import (
    WarehouseConfigError,
    WarehouseError,
    describe_error,
    resolve_url,
    safe_url,
)

log = logging.getLogger(__name__)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it


def _command_modules() -> list:
    modules = [importlib.import_module(f"{__name__}.{info.name}")
               for info in pkgutil.iter_modules(__path__)
               if not info.name.startswith("_") and info.name != "common"]
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="news-etl", description=__doc__.split("\n")[0], epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in _command_modules():
        module.register(sub)
    return parser


# GX logs at INFO on import (doc decorators); the others are chatty at INFO.
QUIETED_LOGGERS = ("great_expectations", "trafilatura", "htmldate", "urllib3", "alembic")


def configure_logging(verbose: bool) -> None:
    """The process's logging: the CLI's job, never the library's."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in QUIETED_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    settings: Settings | None = None
    try:
        with interrupt_guard() as interrupted:
            settings = Settings.load(warehouse_url=getattr(args, "warehouse", None))
            code = args.func(args, settings)
        if interrupted.is_set():  # Ctrl-C whose KeyboardInterrupt was swallowed
            print("news-etl: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        return code
    except ConfigError as exc:
        print(f"news-etl: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except WarehouseConfigError as exc:  # before WarehouseError, its base class
        print(f"news-etl: bad warehouse URL: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except WarehouseError as exc:
        print(f"news-etl: warehouse error: {exc}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except SQLAlchemyError as exc:
        # The warehouse went away or refused a statement mid-run: one line, no password,
        # no SQL parameters (article text); -v shows the traceback.
        log.debug("warehouse error", exc_info=True)
        url = resolve_url(settings.warehouse_url) if settings else ""
        print(f"news-etl: warehouse error on {safe_url(url)}: {describe_error(exc, url)}",
              file=sys.stderr)
        return EXIT_RUN_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
