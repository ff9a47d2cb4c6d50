"""Tenant namespaces for the identifiers tenants choose: camera ids and usernames, and the
ids of alert rules and names of alert actions added through the API.

All must be unique across the installation (events, recordings and logins carry them), and a
single installation-wide space would make "taken" an answer about other tenants: a 409 for a
camera id or username another organisation uses. So a tenant's identifiers live in its own
namespace, written `TENANT:NAME`, and whether one is free never depends on another tenant.

The tenant `default` (single-organisation installations, the demo) and system-wide users keep
bare names, as before. Identifiers stored before the namespaces existed (bare ids of cameras or
users of other tenants) stay valid as they are: stored events and recordings carry them.
"""

from __future__ import annotations

import re

DEFAULT_TENANT = "default"
SEPARATOR = ":"
# The columns that hold camera ids and usernames are 64 characters wide, prefix included.
MAX_LENGTH = 64
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
CAMERA_ID_PATTERN = r"^([a-z0-9][a-z0-9_-]{0,63}:)?[a-z0-9][a-z0-9_-]{0,63}$"
CAMERA_ID = re.compile(CAMERA_ID_PATTERN)


class NamespaceError(ValueError):
    """An identifier outside the namespace of the tenant it is for (or too long with its
    prefix); the message depends only on the identifier and the tenant, never on what
    exists."""


def prefix_of(tenant: str | None) -> str | None:
    """The namespace prefix of `tenant`'s identifiers; None where they are bare."""
    return None if tenant is None or tenant == DEFAULT_TENANT else tenant


def _article(noun: str) -> str:
    # Enough for the words used here: "an id", "an action", but "a user", "a name".
    return "an" if noun[0] in "aeio" else "a"


def qualify(identifier: str, tenant: str | None, kind: str, noun: str) -> str:
    """`identifier` in `tenant`'s namespace: a bare name gets the tenant's prefix, an
    identifier with the tenant's own prefix is kept. `kind` and `noun` name it in messages
    ("a camera of tenant 'acme' has an id …", "a user of tenant 'acme' has a name …")."""
    owner, separator, name = identifier.partition(SEPARATOR)
    own = prefix_of(tenant)
    whose = f"{_article(kind)} {kind} " + (
        f"of tenant {tenant!r}" if tenant is not None else "without a tenant"
    )
    if not separator:
        result = identifier if own is None else f"{own}{SEPARATOR}{identifier}"
    elif owner == own:
        result = identifier
    elif own is None:
        raise NamespaceError(f"{whose} has a bare {noun}, without a tenant prefix; write {name!r}")
    else:
        raise NamespaceError(
            f"{identifier!r} is in the namespace of tenant {owner!r}; {whose} has "
            f"{_article(noun)} {noun} '{own}{SEPARATOR}<name>', e.g. '{own}{SEPARATOR}{name}'"
        )
    if len(result) > MAX_LENGTH:
        raise NamespaceError(
            f"{result!r} is {len(result)} characters with its tenant prefix; at most {MAX_LENGTH}"
        )
    return result


def misplaced(identifier: str, tenant: str | None, kind: str, noun: str) -> str | None:
    """Why `identifier` is not written as `tenant`'s namespace wants it (None if it is): for
    a file written by hand, where a silent rename would orphan stored events."""
    try:
        wanted = qualify(identifier, tenant, kind, noun)
    except NamespaceError as error:
        return str(error)
    if wanted == identifier:
        return None
    return (
        f"{_article(kind)} {kind} of tenant {tenant!r} has {_article(noun)} {noun} "
        f"'{tenant}{SEPARATOR}<name>'; write {wanted!r}"
    )


def path_segment(camera_id: str) -> str:
    """`camera_id` as one segment of a media key or file name: 'acme:gate' is 'acme.gate'.
    Media keys keep to a portable alphabet without ':' (a drive letter or a stream name on
    some file systems); no id contains '.', so two cameras never share a directory."""
    return camera_id.replace(SEPARATOR, ".")
