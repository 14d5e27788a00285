"""news-etl: the pipeline library (never imports Airflow)."""
