"""An input file by name: a path on disk for the CLI, uploaded bytes for the HTTP API."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from spendgate.reconcile.errors import ReconcileInputError

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file on disk (`path`) or uploaded content (`data`); picklable for worker processes."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    size: int | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> InputFile:
        p = Path(path)
        try:
            size = p.stat().st_size
        except OSError as exc:
            raise ReconcileInputError(str(path), None, f"cannot read: {exc.strerror}") from exc
        return cls(str(path), path=p, size=size)

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> InputFile:
        return cls(name, data=data, size=len(data))

    def open(self) -> IO[bytes]:
        if self.path is None:
            return io.BytesIO(self.data or b"")
        try:
            return open(self.path, "rb")
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
