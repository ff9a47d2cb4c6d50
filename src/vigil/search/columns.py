"""Compact numpy columns of the search index's in-memory mirror: strings as small integer codes,
arrays that grow by doubling. About 40 bytes per event, so filters, facets and paging over
millions of events run in numpy instead of SQL."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np


class Codes:
    """A column of strings (or None) as small integers, with the table of values."""

    def __init__(self) -> None:
        self.values: list[str | None] = [None]
        self.codes: dict[str | None, int] = {None: 0}

    def code(self, value: str | None) -> int:
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.values)
            self.values.append(value)
        return found

    def wanted(self, values: Collection[str]) -> np.ndarray:
        return np.array([self.codes[v] for v in values if v in self.codes], dtype=np.int32)


class Grow:
    """A numpy array that grows by doubling; `view(n)` is its first n rows."""

    def __init__(self, dtype: Any, width: int | None = None, fill: Any = 0) -> None:
        shape = (1024,) if width is None else (1024, width)
        self.data = np.full(shape, fill, dtype=dtype)
        self.fill = fill

    def ensure(self, n: int) -> None:
        if n <= len(self.data):
            return
        size = len(self.data)
        while size < n:
            size *= 2
        bigger = np.full((size, *self.data.shape[1:]), self.fill, dtype=self.data.dtype)
        bigger[: len(self.data)] = self.data
        self.data = bigger
