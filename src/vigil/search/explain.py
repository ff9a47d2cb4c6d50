"""Every word of a search accounted for: read as a filter (and which), used for ranking, or
ignored, and why. A query whose words silently vanish or silently become required is a dead
end the operator cannot see; the chips the UI draws from this say what happened to each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vigil.search.query import STOPWORDS, WORD, ParsedQuery, normalize

Role = Literal["filter", "ranking", "ignored"]


@dataclass(frozen=True, slots=True)
class WordRole:
    word: str
    role: Role
    why: str


def account(parsed: ParsedQuery) -> list[WordRole]:
    """One entry per word of the query, in its order."""
    readings: dict[str, str] = {}
    for item in parsed.interpretations:
        for word in WORD.findall(normalize(item.words)):
            readings.setdefault(word, f"{item.kind}: {item.meaning}")
    keywords = set(parsed.keywords)
    ranked = set(WORD.findall(normalize(parsed.semantic_text)))
    roles = []
    for word in WORD.findall(normalize(parsed.raw)):
        if word in readings:
            roles.append(WordRole(word, "filter", readings[word]))
        elif word in keywords:
            roles.append(
                WordRole(
                    word,
                    "ranking",
                    "no filter knows this word: results that "
                    "mention it rank higher, none is left out",
                )
            )
        elif word in STOPWORDS:
            roles.append(
                WordRole(word, "ignored", "a common word that says nothing to filter or rank by")
            )
        elif word in ranked:
            roles.append(WordRole(word, "ranking", "part of the sentence compared by meaning"))
        else:
            roles.append(WordRole(word, "ignored", "not understood here"))
    return roles
