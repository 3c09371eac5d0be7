"""Dispatch a command to its book operation, and encode its result for idempotent replay."""

from __future__ import annotations

from typing import Any

from spendgate.domain.reservations import Reservation
from spendgate.ledger.book import Book, BookSource
from spendgate.ledger.codec import (
    grant_from_dict,
    grant_to_dict,
    limit_from_dict,
    limit_to_dict,
    node_from_dict,
    node_to_dict,
)
from spendgate.ledger.commands import (
    AddGrant,
    Command,
    Commit,
    ExpireDue,
    PutLimit,
    RecordUsage,
    Release,
    Reserve,
    UpsertOrg,
    UpsertProject,
    UpsertUser,
)


def apply(book: Book, src: BookSource, cmd: Command, now_ms: int) -> Any:
    if isinstance(cmd, Reserve):
        return book.reserve(src, cmd, now_ms)
    if isinstance(cmd, Commit):
        book.require_path(src, book.reservation(src, cmd.reservation_id).path.ancestors()[0])
        return book.commit(src, cmd, now_ms)
    if isinstance(cmd, Release):
        return book.release(src, cmd, now_ms)
    if isinstance(cmd, RecordUsage):
        book.repay_debt(now_ms)
        return book.record_usage(src, cmd, now_ms)
    if isinstance(cmd, ExpireDue):
        return book.expire_due(src, now_ms) if book.org is not None else 0
    if isinstance(cmd, UpsertOrg):
        return book.upsert_org(cmd, now_ms)
    if isinstance(cmd, UpsertProject):
        return book.upsert_project(src, cmd, now_ms)
    if isinstance(cmd, UpsertUser):
        return book.upsert_user(src, cmd, now_ms)
    if isinstance(cmd, AddGrant):
        return book.add_grant(src, cmd, now_ms)
    if isinstance(cmd, PutLimit):
        return book.put_limit(src, cmd, now_ms)
    raise TypeError(f"unknown command {type(cmd).__name__}")  # pragma: no cover


def encode(cmd: Command, value: Any) -> Any:
    if isinstance(cmd, (Reserve, Commit, Release)):
        return value.to_dict()
    if isinstance(cmd, (UpsertOrg, UpsertProject, UpsertUser)):
        return {"node": node_to_dict(value[0]), "created": value[1]}
    if isinstance(cmd, AddGrant):
        return grant_to_dict(value)
    if isinstance(cmd, PutLimit):
        return {"limit": limit_to_dict(value[0]), "created": value[1]}
    if isinstance(cmd, RecordUsage):
        return list(value)
    return value


def decode(cmd: Command, data: Any) -> Any:
    if isinstance(cmd, (Reserve, Commit, Release)):
        return Reservation.from_dict(data)
    if isinstance(cmd, (UpsertOrg, UpsertProject, UpsertUser)):
        return node_from_dict(data["node"]), data["created"]
    if isinstance(cmd, AddGrant):
        return grant_from_dict(data)
    if isinstance(cmd, PutLimit):
        return limit_from_dict(data["limit"]), data["created"]
    if isinstance(cmd, RecordUsage):
        return tuple(data)
    return data
