"""Errors raised by sources."""


class SourceError(RuntimeError):
    """A source that fails as a whole (unreadable folder, feed down, not a feed)."""
