"""The ergonomic path: `with gate.reserve(...) as hold: run(); hold.commit(actual)`.

Inside the block the work runs on held credits. Commit records what it really cost. An
exception inside the block releases the hold and propagates; leaving the block without a
commit releases it too, so budget is never pinned by a forgotten hold. A denied reservation
holds nothing: check `hold.funded` before starting the work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Coroutine, Generator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from spendgate.client._calls import Amount, UsageLike
from spendgate.client.errors import ClientError, ConflictError
from spendgate.client.resources import Reservation, ReservationItem

if TYPE_CHECKING:
    from spendgate.client._surface import AsyncOperations, SyncOperations


def _is_amount(value: object) -> bool:
    from decimal import Decimal

    return isinstance(value, str | Decimal | int) and not isinstance(value, bool)


def commit_items(reservation: Reservation, requested: Sequence[Mapping[str, Any]],
                 actual: Any = None, *, ref: str | None = None,
                 items: Sequence[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The commit body's items: given outright, one actual for one item, or the estimates."""
    if items is not None:
        if actual is not None:
            raise TypeError("give actual or items, not both")
        return [dict(i) for i in items]
    held = [i for i in reservation.items if i.held]
    if actual is None:
        return [{"ref": i.ref, **_chosen(i, requested)} for i in held]
    if ref is None:
        if len(held) != 1:
            raise TypeError("this reservation holds several items: name one with ref=, "
                            "or give items=[{'ref': ..., 'amount' | 'usage': ...}, ...]")
        ref = held[0].ref
    if _is_amount(actual):
        return [{"ref": ref, "amount": actual}]
    return [{"ref": ref, "usage": actual}]


def _chosen(item: ReservationItem, requested: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What was estimated for the option that was held: charged as is when no actual is given."""
    for req in requested:
        if req.get("ref") != item.ref:
            continue
        if "options" in req:
            return dict(req["options"][item.option or 0])
        if "usage" not in req:
            return {"amount": req["amount"]}
        usage = dict(req["usage"])
        held = item.raw.get("usage")
        if item.option and isinstance(held, Mapping):
            # A fallback chain changed dimensions only (e.g. the model): take them from
            # the option the server held, and keep the requested quantities.
            usage.update({k: held[k] for k, v in usage.items()
                          if isinstance(v, str) and isinstance(held.get(k), str)})
        return {"usage": usage}
    if item.amount is None:
        raise TypeError(f"no estimate known for item {item.ref!r}: give the actual")
    return {"amount": item.amount}


class Hold:
    """A reservation being worked on. Use it as a context manager."""

    def __init__(self, gate: SyncOperations, reservation: Reservation,
                 requested: Sequence[Mapping[str, Any]]) -> None:
        self._gate = gate
        self.reservation = reservation
        self._requested = list(requested)

    @property
    def id(self) -> str:
        return self.reservation.id

    @property
    def status(self) -> str:
        return self.reservation.status

    @property
    def funded(self) -> bool:
        """Something is held: the work may start (for a batch, the items in held_refs)."""
        return self.reservation.open

    @property
    def option(self) -> int | None:
        """Which option the (single) item was held with: 0 is the preferred one."""
        held = [i for i in self.reservation.items if i.held]
        return held[0].option if len(held) == 1 else None

    def commit(self, actual: Amount | UsageLike | None = None, *, ref: str | None = None,
               items: Sequence[Mapping[str, Any]] | None = None,
               idempotency_key: str | None = None) -> Reservation:
        """Record what the work cost: an amount of credits or a usage object.

        With no actual, every held item is charged its estimate. Items not named are released.
        """
        body = commit_items(self.reservation, self._requested, actual, ref=ref, items=items)
        self.reservation = self._gate.commit(self.id, items=body,
                                             idempotency_key=idempotency_key)
        return self.reservation

    def release(self, *, idempotency_key: str | None = None) -> Reservation:
        self.reservation = self._gate.release(self.id, idempotency_key=idempotency_key)
        return self.reservation

    def refresh(self) -> Reservation:
        self.reservation = self._gate.get_reservation(self.id)
        return self.reservation

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self.reservation.open:
            return
        try:
            self.release()
        except ConflictError:
            pass  # it expired or was settled elsewhere: nothing is held any more
        except ClientError as err:
            if exc is None:
                raise
            exc.add_note(f"releasing hold {self.id} failed too: {err}")


class AsyncHold:
    """The async twin of Hold: `async with gate.reserve(...) as hold: ...`."""

    def __init__(self, gate: AsyncOperations, reservation: Reservation,
                 requested: Sequence[Mapping[str, Any]]) -> None:
        self._gate = gate
        self.reservation = reservation
        self._requested = list(requested)

    @property
    def id(self) -> str:
        return self.reservation.id

    @property
    def status(self) -> str:
        return self.reservation.status

    @property
    def funded(self) -> bool:
        return self.reservation.open

    @property
    def option(self) -> int | None:
        held = [i for i in self.reservation.items if i.held]
        return held[0].option if len(held) == 1 else None

    async def commit(self, actual: Amount | UsageLike | None = None, *,
                     ref: str | None = None, items: Sequence[Mapping[str, Any]] | None = None,
                     idempotency_key: str | None = None) -> Reservation:
        body = commit_items(self.reservation, self._requested, actual, ref=ref, items=items)
        self.reservation = await self._gate.commit(self.id, items=body,
                                                   idempotency_key=idempotency_key)
        return self.reservation

    async def release(self, *, idempotency_key: str | None = None) -> Reservation:
        self.reservation = await self._gate.release(self.id, idempotency_key=idempotency_key)
        return self.reservation

    async def refresh(self) -> Reservation:
        self.reservation = await self._gate.get_reservation(self.id)
        return self.reservation

    async def __aenter__(self) -> AsyncHold:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if not self.reservation.open:
            return
        try:
            await self.release()
        except ConflictError:
            pass
        except ClientError as err:
            if exc is None:
                raise
            exc.add_note(f"releasing hold {self.id} failed too: {err}")


class PendingHold(Awaitable[AsyncHold]):
    """What AsyncGate.reserve returns: await it for an AsyncHold, or `async with` it."""

    def __init__(self, reserving: Coroutine[Any, Any, AsyncHold]) -> None:
        self._reserving = reserving
        self._hold: AsyncHold | None = None

    def __await__(self) -> Generator[Any, None, AsyncHold]:
        return self._reserving.__await__()

    async def __aenter__(self) -> AsyncHold:
        self._hold = await self._reserving
        return self._hold

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        assert self._hold is not None
        await self._hold.__aexit__(exc_type, exc, tb)


__all__ = ["AsyncHold", "Hold", "PendingHold"]
