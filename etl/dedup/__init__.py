"""Deduplication stage: exact and near-duplicate."""
