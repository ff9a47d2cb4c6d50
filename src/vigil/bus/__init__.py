"""The event bus: one Protocol, an in-process implementation now, NATS JetStream at scale."""

from vigil.bus.base import Bus, BusMessage, Subscription
from vigil.bus.memory import MemoryBus

__all__ = ["Bus", "BusMessage", "MemoryBus", "Subscription"]
