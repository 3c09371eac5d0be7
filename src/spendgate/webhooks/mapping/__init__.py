"""One mapping per vendor: a verified delivery onto internal signals."""

from __future__ import annotations

from collections.abc import Callable

from spendgate.webhooks.delivery import VerifiedDelivery
from spendgate.webhooks.mapping._fields import OrgResolver
from spendgate.webhooks.mapping.flexprice import map_flexprice
from spendgate.webhooks.mapping.lago import map_lago
from spendgate.webhooks.mapping.metronome import map_metronome
from spendgate.webhooks.signals import Signal

Mapper = Callable[[VerifiedDelivery, OrgResolver], tuple[Signal, ...]]

MAPPERS: dict[str, Mapper] = {
    "flexprice": map_flexprice,
    "metronome": map_metronome,
    "lago": map_lago,
}


def map_delivery(vendor: str, delivery: VerifiedDelivery, resolve: OrgResolver
                 ) -> tuple[Signal, ...]:
    """The signals a verified delivery from `vendor` asks for (Ignored when none)."""
    return MAPPERS[vendor](delivery, resolve)


__all__ = ["MAPPERS", "Mapper", "OrgResolver", "map_delivery", "map_flexprice", "map_lago",
           "map_metronome"]
