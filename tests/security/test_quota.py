"""The one eviction loop both media quotas use (vigil.privacy.quota): snapshots under
`retention.media_quota_mb`, recorded hours under `recording.quota_mb_per_tenant`."""

from __future__ import annotations

from collections.abc import Iterator

from vigil.privacy.quota import evict_oldest


def test_the_oldest_go_first_and_only_until_usage_is_under_the_quota() -> None:
    read: list[str] = []

    def oldest() -> Iterator[tuple[str, int]]:
        for item in [("a", 40), ("b", 30), ("c", 20), ("d", 10)]:
            read.append(item[0])
            yield item

    evicted: list[str] = []

    def evict(item: tuple[str, int]) -> int:
        evicted.append(item[0])
        return item[1]

    assert evict_oldest(100, 40, oldest(), evict) == 30
    assert evicted == ["a", "b"]
    # Read lazily: the snapshot batches are queried only as far as the eviction needs.
    assert read == ["a", "b", "c"]


def test_nothing_goes_under_the_quota_and_what_is_left_over_it_is_reported() -> None:
    assert evict_oldest(50, 60, iter([("a", 10)]), lambda item: item[1]) == 50
    # Only locked items left (the caller passes none): still over, the caller reports it.
    assert evict_oldest(100, 60, iter([("a", 10)]), lambda item: item[1]) == 90
