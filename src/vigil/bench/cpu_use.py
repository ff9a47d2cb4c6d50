"""CPU time of process trees from /proc (Linux): how benchmarks say where the time went.

A server such as PostgreSQL works in child processes (a backend per connection, the WAL
writer …); a tree's time is that of the process, of its descendants still running, and of the
children it has reaped (the kernel adds those to its `cutime`/`cstime`; PostgreSQL's backends
are the postmaster's children).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

_PROC = Path("/proc")
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (2nd field) may hold spaces or parentheses: split after its last ')'.
    return text.rsplit(")", 1)[1].split()


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir() if _PROC.is_dir() else ():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_cpu_s(pids: Iterable[int]) -> float:
    """CPU seconds (user + system) used so far by the processes `pids` and all their
    descendants, running or reaped; 0.0 where /proc cannot tell."""
    children = _children()
    total = 0
    seen: set[int] = set()
    todo = list(pids)
    roots = set(todo)
    while todo:
        pid = todo.pop()
        if pid in seen or (fields := _stat(pid)) is None:
            continue
        seen.add(pid)
        # fields[11:15]: utime, stime, cutime, cstime (stat fields 14-17), in clock ticks.
        utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
        total += utime + stime
        if pid in roots:
            total += cutime + cstime
        todo.extend(children.get(pid, ()))
    return total / _TICK
