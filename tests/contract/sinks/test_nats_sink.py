"""The stream sink against a real NATS JetStream at 127.0.0.1:4222."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import nats
import nats.js.errors
import orjson
import pytest

from spendgate.sinks import Dispatcher, MemoryOutbox, build_sink
from spendgate.sinks.nats import NatsSink
from spendgate.sinks.port import PermanentFailure, RetryLater
from tests.services import NATS_URL, need
from tests.unit.sinks.factories import config, usage

pytestmark = pytest.mark.nats


@dataclass(frozen=True)
class Stream:
    name: str
    prefix: str


async def _messages(stream: str) -> list[tuple[str, dict[str, object], str | None]]:
    nc = await nats.connect(NATS_URL)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(stream, seq)
            headers = msg.headers or {}
            out.append((msg.subject, orjson.loads(msg.data or b"{}"),
                        headers.get("Nats-Msg-Id")))
        return out
    finally:
        await nc.close()


async def _delete(stream: str) -> None:
    nc = await nats.connect(NATS_URL)
    try:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


@pytest.fixture
def stream() -> Iterator[Stream]:
    need("NATS", "127.0.0.1", 4222)
    token = uuid.uuid4().hex[:12]
    s = Stream(name=f"SG_TEST_{token}", prefix=f"sgtest.{token}")
    try:
        yield s
    finally:
        asyncio.run(_delete(s.name))


def sink_for(stream: Stream) -> NatsSink:
    cfg = config("nats", base_url=NATS_URL,
                 options={"stream": stream.name, "subject_prefix": stream.prefix,
                          "timeout_ms": 5000})
    sink = build_sink(cfg)
    assert isinstance(sink, NatsSink)
    return sink


def test_events_land_on_a_subject_per_tenant_env_and_meter_with_their_id(
    stream: Stream,
) -> None:
    sink = sink_for(stream)
    events = usage(40, meters=("tokens", "credits"))
    try:
        sink.deliver(events)  # creates the missing stream first
    finally:
        sink.close()
    messages = asyncio.run(_messages(stream.name))
    assert len(messages) == 40
    by_id = {msg_id: (subject, body) for subject, body, msg_id in messages}
    assert set(by_id) == {e.id for e in events}
    subject, body = by_id["ev_000000"]
    assert subject == f"{stream.prefix}.acme.live.tokens"
    assert body["id"] == "ev_000000" and body["credits"] == events[0].to_dict()["credits"]
    assert by_id["ev_000001"][0] == f"{stream.prefix}.acme.live.credits"


def test_resends_are_dropped_by_nats_msg_id(stream: Stream) -> None:
    sink = sink_for(stream)
    events = usage(25)
    try:
        sink.deliver(events)
        sink.deliver(events)
        sink.deliver(events[5:10])
    finally:
        sink.close()
    assert len(asyncio.run(_messages(stream.name))) == 25


def test_the_dispatcher_delivers_through_the_stream_sink_exactly_once(stream: Stream) -> None:
    sink = sink_for(stream)
    outbox = MemoryOutbox()
    events = usage(1500)
    outbox.add_many(sink.name, events, now_ms=0)
    outbox.add_many(sink.name, events[:300], now_ms=0)  # a replay of part of it
    try:
        d = Dispatcher(outbox, [sink])
        d.run_once(now_ms=0)
        assert d.status(sink.name).delivered == 1800
    finally:
        sink.close()
    messages = asyncio.run(_messages(stream.name))
    assert len(messages) == 1500
    assert {m[2] for m in messages} == {e.id for e in events}


def test_an_unmappable_event_is_refused_before_publishing(stream: Stream) -> None:
    from dataclasses import replace

    sink = sink_for(stream)
    events = usage(3)
    events[1] = replace(events[1], id="")
    try:
        with pytest.raises(PermanentFailure) as caught:
            sink.deliver(events)
    finally:
        sink.close()
    assert caught.value.event_ids == ("",)


def test_an_unreachable_server_is_a_retry_later() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = build_sink(config("nats", base_url=f"nats://127.0.0.1:{port}",
                             options={"timeout_ms": 500}))
    try:
        with pytest.raises(RetryLater, match="cannot connect"):
            sink.deliver(usage(2))
    finally:
        sink.close()
