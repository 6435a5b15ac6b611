"""Record ids marked in a cursor's cache for the time of a call."""

from contextlib import contextmanager


@contextmanager
def marking(cache, key, ids):
    """While the block runs, ``ids`` are in the set kept under ``key`` in
    ``cache`` (a cursor's cache); those marked before stay marked after."""
    marked = cache.setdefault(key, set())
    added = set(ids) - marked
    marked |= added
    try:
        yield
    finally:
        marked -= added
