"""HTTP headers as the verifiers see them: case-insensitive, and stored without secrets."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

# Headers that can carry credentials; never stored in the delivery log.
ALWAYS_REDACTED = frozenset({"authorization", "cookie", "proxy-authorization", "x-api-key"})


class Headers(Mapping[str, str]):
    """A read-only, case-insensitive view of request headers (the last value wins)."""

    __slots__ = ("_items",)

    def __init__(self, raw: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        pairs = raw.items() if isinstance(raw, Mapping) else raw
        self._items = {str(k).lower(): str(v) for k, v in pairs}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def first(self, *names: str) -> str | None:
        """The value of the first of `names` present and non-empty."""
        for name in names:
            value = self._items.get(name.lower(), "").strip()
            if value:
                return value
        return None


def as_headers(raw: Mapping[str, str] | Iterable[tuple[str, str]]) -> Headers:
    return raw if isinstance(raw, Headers) else Headers(raw)


def redact(headers: Mapping[str, str], secret_names: Iterable[str] = ()) -> dict[str, str]:
    """Headers fit for storage: credential headers and the given secret headers removed."""
    drop = ALWAYS_REDACTED | {n.lower() for n in secret_names}
    return {k.lower(): v for k, v in headers.items() if k.lower() not in drop}


__all__ = ["ALWAYS_REDACTED", "Headers", "as_headers", "redact"]
