"""`vigil bench fanout`: live-event delivery to many SSE subscribers of one API node.

Separate processes on loopback: a NATS server, the API node (uvicorn), a publisher, and
several subscriber processes holding the connections, so the load generator never shares the
API node's event loop. The same run measures today's fan-out and, as the baseline, the
implementation it replaced (one bus subscription and one filter per connection).
"""
