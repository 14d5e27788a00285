"""Assets shared between DAGs, defined once so producer and consumers always agree.

It lives with the plugins, not in dags/: the plugins folder is on sys.path everywhere
a DAG is parsed (Airflow adds it; the Makefile, Docker image and tests put it on
PYTHONPATH), while the DAGs folder is not when DAG files are loaded outside Airflow.
"""

from __future__ import annotations

from airflow.sdk import Asset

# Updated by news_ingest after every load; its event's `extra` carries the run totals.
ARTICLES = Asset(name="news_articles", uri="news-etl://warehouse/articles")
