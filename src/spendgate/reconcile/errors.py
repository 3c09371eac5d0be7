"""Bad provider input: every problem names the file and the row, and nothing is written."""

from __future__ import annotations

from spendgate.errors import InvalidRequest


class ReconcileInputError(InvalidRequest):
    """A provider export, mapping or metered file cannot be read as given."""

    code = "reconcile_input_invalid"

    def __init__(self, file: str, row: str | None, message: str) -> None:
        where = file if row is None else f"{file}: {row}"
        super().__init__(f"{where}: {message}", param="file")
        self.file = file
        self.row = row
        self.detail = message


__all__ = ["ReconcileInputError"]
