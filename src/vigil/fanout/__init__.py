"""Live events to many subscribers: one bus feed per API node, each event matched once per
distinct subscription key, a bounded buffer per subscriber (see docs/scale.md, "Users")."""

from vigil.fanout.hub import FanoutHub, StreamLimitError
from vigil.fanout.key import StreamKey
from vigil.fanout.subscriber import Subscriber

__all__ = ["FanoutHub", "StreamKey", "StreamLimitError", "Subscriber"]
