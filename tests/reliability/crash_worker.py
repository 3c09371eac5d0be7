"""Sustained reservations that print an acknowledgement after each call returns.

Run as a child process and killed with SIGKILL by the crash test. Each line is
`<op> <n> <reservation id>`: the ledger has acknowledged that operation.
"""

from __future__ import annotations

import sys
import threading

from spendgate.domain.hierarchy import NodePath
from spendgate.domain.reservations import Charge
from spendgate.ledger.commands import Commit, CommitItem, Idem, ItemRequest, Reserve
from spendgate.ledger.engine import Ledger
from spendgate.stores import open_store
from tests.reliability.workload import ORG, SCOPE

_print = threading.Lock()


def cycle(ledger: Ledger, worker: int) -> None:
    path = NodePath(ORG, "p0", f"u{worker % 3}")
    n = 0
    while True:
        tag = f"{worker}-{n}"
        res = ledger.execute(SCOPE, Reserve(path, (ItemRequest("i0", (Charge(1000),)),), 600_000),
                             Idem(f"r-{tag}", f"r-{tag}")).value
        with _print:
            print(f"R {tag} {res.id} {res.status.value}", flush=True)
        if res.open:
            ledger.execute(SCOPE, Commit(ORG, res.id, (CommitItem("i0", Charge(900)),)),
                           Idem(f"c-{tag}", f"c-{tag}"))
            with _print:
                print(f"C {tag} {res.id}", flush=True)
        n += 1


def main() -> None:
    ledger = Ledger(open_store(sys.argv[1]))
    for w in range(8):
        threading.Thread(target=cycle, args=(ledger, w), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
