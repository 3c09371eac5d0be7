"""An input file by name: a path on disk for the CLI, uploaded bytes for the HTTP API."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from spendgate.reconcile.errors import ReconcileInputError

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class InputFile:
    name: str
    opener: Callable[[], IO[bytes]]
    size: int | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> InputFile:
        p = Path(path)
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise ReconcileInputError(str(path), None, f"cannot read: {exc.strerror}") from exc
        return cls(str(path), lambda: open(p, "rb"), size)

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> InputFile:
        return cls(name, lambda: io.BytesIO(data), len(data))

    def open(self) -> IO[bytes]:
        try:
            return self.opener()
        except OSError as exc:
            raise ReconcileInputError(self.name, None, f"cannot read: {exc.strerror}") from exc

    def digest(self) -> str:
        """SHA-256 of the content: the same export imported twice is recognised and skipped."""
        sha = hashlib.sha256()
        with self.open() as stream:
            while chunk := stream.read(_CHUNK):
                sha.update(chunk)
        return sha.hexdigest()


__all__ = ["InputFile"]
