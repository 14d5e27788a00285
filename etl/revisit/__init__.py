"""Revisits: stored articles are fetched again on a decaying schedule, and what changed is
kept as versions (docs/revisits.md).

- `schedule.py`: when (delays from the first store; `revisit:` per source);
- `store.py`: the warehouse side (due articles, versions, the schedule table);
- `changes.py` + `notices.py`: what changed, and whether it is a correction notice;
- `state.py`: the pieces the chain's steps are built with on a revisit run;
- `run.py`: `revisit()`, the run (`news-etl revisit`, the news_revisit DAG).
"""

from etl.revisit.changes import CHANGE_KINDS, Change, compare
from etl.revisit.run import revisit, revisit_source, revisitable
from etl.revisit.schedule import next_revisit

__all__ = ["CHANGE_KINDS", "Change", "compare", "next_revisit", "revisit", "revisit_source",
           "revisitable"]
