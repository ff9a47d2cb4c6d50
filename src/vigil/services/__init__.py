"""Real services started on loopback by Vigil itself: PostgreSQL, NATS, SeaweedFS.

Used by the test suite, `vigil cluster up` and the docs; every process binds 127.0.0.1 and is
stopped by its own PID.
"""

from vigil.services.common import ServiceError, free_port, wait_port

__all__ = ["ServiceError", "free_port", "wait_port"]
