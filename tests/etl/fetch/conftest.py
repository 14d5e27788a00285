"""The real Redis on 127.0.0.1:6379 for the shared-politeness tests: a key prefix of its
own per test, its keys deleted afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from etl.fetch.politeness import reset_shared_politeness

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


@pytest.fixture
def limiter_url() -> Iterator[str]:
    prefix = f"news-etl-test-{uuid.uuid4().hex[:12]}"
    yield f"redis://{REDIS_HOST}:{REDIS_PORT}/0?key_prefix={prefix}"
    reset_shared_politeness()  # stops this process's lease renewer before the keys go
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=0)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
