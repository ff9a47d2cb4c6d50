"""httpx plumbing shared by the HTTP camera modes: client settings and error messages."""

from __future__ import annotations

import re

import httpx

from vigil.sources.base import SourceError, SourceOptions

_ERRNO_PREFIX = re.compile(r"^\[Errno -?\d+\]\s*")


def make_client(options: SourceOptions) -> httpx.Client:
    timeout = httpx.Timeout(
        connect=options.open_timeout_s,
        read=options.read_timeout_s,
        write=options.read_timeout_s,
        pool=options.open_timeout_s,
    )
    # Credentials in the URL (http://user:pass@cam/...) become Basic auth in httpx.
    if options.policy is None:
        return httpx.Client(timeout=timeout, follow_redirects=True)
    from vigil.sources.guarded import GuardedTransport

    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        transport=GuardedTransport(options.policy),
        trust_env=False,
    )


def http_reason(exc: httpx.HTTPError, options: SourceOptions) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no answer within {options.open_timeout_s:g} s"
    if isinstance(exc, httpx.ReadTimeout):
        return f"no data for {options.read_timeout_s:g} s"
    text = _ERRNO_PREFIX.sub("", str(exc)) or type(exc).__name__
    return text


def check_status(response: httpx.Response, shown: str) -> None:
    if response.status_code != httpx.codes.OK:
        raise SourceError(
            f"{shown} answered HTTP {response.status_code} {response.reason_phrase}".rstrip()
        )
