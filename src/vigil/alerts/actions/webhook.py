"""HTTP webhook: POST the alert as JSON, signed with HMAC-SHA256 over the exact body.

`X-Vigil-Signature: sha256=<hex>` is HMAC-SHA256(secret, body); a receiver recomputes it over
the raw request body and compares in constant time (docs/alerts.md has an example). 2xx is
delivered; 5xx, 408, 429, timeouts and connection errors may pass later and are retried;
other statuses (4xx, and 3xx: redirects are not followed) are final.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ssl
from urllib.parse import urlsplit

import httpx

from vigil.alerts.actions.base import Attempt, delivered, failed
from vigil.alerts.alert import Alert, Links, payload_bytes
from vigil.alerts.config import WebhookAction

SIGNATURE_HEADER = "X-Vigil-Signature"
RETRYABLE_STATUS = frozenset({408, 429})
USER_AGENT = "vigil-alerts/1"


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Loading the CA certificates is the costly part of a client; it is done once."""
    return ssl.create_default_context()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    kind = "webhook"

    def __init__(self, name: str, config: WebhookAction, links: Links) -> None:
        self.name = name
        self.config = config
        self.links = links

    def target(self) -> str:
        parts = urlsplit(self.config.url)
        # Paths and queries often carry tokens; the scheme, host and port say enough.
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")

    def send(self, alert: Alert) -> Attempt:
        body = payload_bytes(alert, self.links)
        headers = {
            **self.config.headers,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Vigil-Alert-Id": alert.id,
            "X-Vigil-Event-Id": alert.event.id,
        }
        if self.config.secret is not None:
            headers[SIGNATURE_HEADER] = signature(self.config.secret, body)
        try:
            # A client per attempt: alerts are rare, and nothing is left open between them.
            with httpx.Client(
                timeout=self.config.timeout_s, follow_redirects=False, verify=_tls_context()
            ) as client:
                response = client.post(self.config.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return failed(f"no answer within {self.config.timeout_s:g} s", retryable=True)
        except httpx.HTTPError as error:
            return failed(f"request failed: {error or type(error).__name__}", retryable=True)
        status = response.status_code
        if 200 <= status < 300:
            return delivered(f"HTTP {status}")
        text = " ".join(response.text.split())[:200]
        detail = f"HTTP {status}" + (f": {text}" if text else "")
        return failed(detail, retryable=status >= 500 or status in RETRYABLE_STATUS)
