"""Whether a moment falls inside a rule's weekly schedule.

The moment is converted to local time in the schedule's IANA zone first, so windows follow
daylight saving time: "08:00-17:00" is 07:00-16:00 UTC in Berlin's winter and 06:00-15:00 in
its summer. On the spring-forward night the skipped local hour simply never occurs.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from vigil.alerts.config import WEEKDAYS, Schedule


def is_active(schedule: Schedule, at_ms: int) -> bool:
    local = datetime.fromtimestamp(at_ms / 1000, ZoneInfo(schedule.timezone))
    minute = local.hour * 60 + local.minute
    day = local.weekday()  # Monday is 0, as in WEEKDAYS
    for window in schedule.windows:
        days = {WEEKDAYS.index(name) for name in window.days}
        start, end = window.start_minute, window.end_minute
        if start < end:
            if day in days and start <= minute < end:
                return True
        # Past midnight: the evening belongs to a listed day, the morning to the day after it.
        elif (day in days and minute >= start) or ((day - 1) % 7 in days and minute < end):
            return True
    return False
