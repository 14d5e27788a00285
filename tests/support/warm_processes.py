"""Separate processes for the tests whose subject is several processes (the Redis-shared
politeness limiter), started warm.

A spawned child imports pytest and etl again (~2 s of CPU each). The forkserver imports
them once and forks every child from that clean, idle process: each child is still a
process of its own (its own memory, Redis connections, threads and politeness state, none
made before the fork). The product's extraction pool shares the one forkserver per
process, so its preload is kept in the list: whichever starts the server first, both find
their modules there (the list has no effect once the server runs: children then import
what is missing themselves, as spawned ones do)."""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext

from etl.extract.pool import PRELOAD

POLITENESS = ["etl.config", "etl.fetch", "etl.fetch.http", "etl.fetch.politeness",
              "etl.fetch.limiter_redis", "support.politeness_workers"]


def warm_processes(modules: list[str] = POLITENESS) -> BaseContext:
    """The forkserver context, `modules` preloaded beside the extraction pool's."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(dict.fromkeys([*PRELOAD, *modules])))
    return context
