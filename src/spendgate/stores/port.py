"""The Store port: transactions and reads over SqlSessions, whatever the backend."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from spendgate.stores.sql import Dialect, SqlSession


class Store(Protocol):
    dialect: Dialect
    url: str

    def transaction(self) -> AbstractContextManager[SqlSession]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        ...

    def read(self) -> AbstractContextManager[SqlSession]:
        """A consistent read snapshot."""
        ...

    def is_retryable(self, exc: BaseException) -> bool:
        """A transient failure (busy, deadlock, serialization, racing insert) worth a retry."""
        ...

    def ping(self) -> None: ...

    def close(self) -> None: ...
