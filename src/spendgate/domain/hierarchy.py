"""The organization → project → user tree, one node type for every level."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    ORG = "org"
    PROJECT = "project"
    USER = "user"


ACTIVE = "active"
SUSPENDED = "suspended"
STATUSES = (ACTIVE, SUSPENDED)


@dataclass(frozen=True, slots=True)
class Scope:
    """A tenant and one of its environments: every row and every key lives in one scope."""

    tenant: str
    env: str


@dataclass(frozen=True, slots=True)
class NodePath:
    """Where a node or a reservation sits: project and user are empty for levels above them."""

    org: str
    project: str = ""
    user: str = ""

    @property
    def level(self) -> Level:
        if self.user:
            return Level.USER
        return Level.PROJECT if self.project else Level.ORG

    def ancestors(self) -> tuple[NodePath, ...]:
        """This path and every path above it, top down: org, project, user."""
        paths = [NodePath(self.org)]
        if self.project:
            paths.append(NodePath(self.org, self.project))
        if self.user:
            paths.append(self)
        return tuple(paths)

    def __str__(self) -> str:
        return "/".join(p for p in (self.org, self.project, self.user) if p)


@dataclass(frozen=True, slots=True)
class Node:
    path: NodePath
    name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    status: str = ACTIVE
    overdraft_limit: int = 0  # nano-credits; org only
    rate_card: str | None = None  # org only
    created_ms: int = 0
    updated_ms: int = 0
    status_reason: str | None = None  # why it is suspended: "manual" or "payment_failed"

    @property
    def suspended(self) -> bool:
        return self.status == SUSPENDED
