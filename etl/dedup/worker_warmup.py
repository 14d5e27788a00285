"""Warms near-duplicate signing up inside the extraction forkserver; import it nowhere else.

Listed in etl.extract.pool.PRELOAD, next to etl.extract.forkserver_warmup: the workers sign
every text they extract (etl.dedup.presigned), and the first signature of a non-ASCII text
builds a lookup table over all of Unicode (etl.dedup.minhash._mark_table, tens of ms) plus
the hash family. Built once here, every forked worker (and every recycled one) inherits it
copy-on-write instead of building it again. A failure here is harmless: the workers then
build them on their own first text.
"""

from __future__ import annotations

import logging


def warm_up() -> None:
    """One signature of a non-ASCII text long enough to be judged."""
    from etl.dedup.minhash import DEFAULT_SETTINGS
    from etl.dedup.presigned import sign_text

    sign_text("naïve café " * DEFAULT_SETTINGS.min_words)


try:
    warm_up()
except Exception:  # never stop the forkserver: workers warm up on their own
    logging.getLogger(__name__).debug("near-duplicate warm-up failed", exc_info=True)
