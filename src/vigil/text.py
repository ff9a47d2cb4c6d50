"""Checks on free text that people type into names: it must survive every place it goes.

A name travels to the database (UTF-8), JSON, CSV exports, log lines and the web UI. A lone
UTF-16 surrogate ("\\ud800", which JSON allows) cannot be encoded as UTF-8 and fails the first
write; control characters forge log lines and corrupt CSV rows. Both are refused where the
name enters, so the error names the field instead of surfacing later as a server error.
"""

from __future__ import annotations

import unicodedata


def check_label(value: str) -> str:
    """`value` unchanged; ValueError naming the first character that cannot be stored or shown.

    Used as a pydantic validator (the error becomes a 422 naming the field).
    """
    for index, char in enumerate(value):
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"character {index} is a lone UTF-16 surrogate (U+{code:04X})")
        if unicodedata.category(char) == "Cc":
            raise ValueError(f"character {index} is a control character (U+{code:04X})")
    return value
