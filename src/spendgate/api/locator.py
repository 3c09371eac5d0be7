"""Which org a reservation belongs to, remembered from its reserve.

Commit and release address the ledger by org; a reservation's org never changes, so a
process that saw the reserve needs no read to find it. Other replicas (or after a restart)
fall back to reading the reservation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from spendgate.domain.hierarchy import Scope

MAX_ENTRIES = 200_000


class ReservationLocator:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._orgs: OrderedDict[tuple[Scope, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, scope: Scope, reservation_id: str, org: str) -> None:
        with self._lock:
            self._orgs[(scope, reservation_id)] = org
            if len(self._orgs) > self.max_entries:
                self._orgs.popitem(last=False)

    def org_of(self, scope: Scope, reservation_id: str) -> str | None:
        return self._orgs.get((scope, reservation_id))
