"""Where each PTZ camera points, as the API last moved it: cluster state, so that the worker
that analyses the camera (whichever it is, after a failover too) and every API node see it.

A row exists only for a camera moved through Vigil since it was (re)created; deleting the
camera deletes its row, so one added again under the same id starts at its saved settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from vigil.domain.frames import now_ms
from vigil.store.db import dialect_insert
from vigil.store.schema import cameras, ptz_positions


@dataclass(frozen=True, slots=True)
class PtzPosition:
    preset: str | None  # the preset it was last sent to; None: never sent to one
    paused: bool  # moving, or moved off every preset: analysed without modules
    # Epoch ms when a move's pause ends by itself, should nobody record the end first (the
    # API node that moved the camera stopped before it settled); None: paused until the next
    # position is recorded (off every preset).
    resume_ms: int | None = None

    def paused_at(self, ts_ms: int) -> bool:
        return self.paused and (self.resume_ms is None or ts_ms < self.resume_ms)


def put(engine: sa.Engine, camera_id: str, position: PtzPosition) -> None:
    insert = dialect_insert(engine, ptz_positions).values(
        camera_id=camera_id, preset=position.preset, paused=position.paused,
        resume_ms=position.resume_ms, updated_ms=now_ms(),
    )
    new = insert.excluded
    with engine.begin() as connection:
        connection.execute(
            insert.on_conflict_do_update(
                index_elements=[ptz_positions.c.camera_id],
                set_={
                    "preset": new.preset,
                    "paused": new.paused,
                    "resume_ms": new.resume_ms,
                    "updated_ms": new.updated_ms,
                },
            )
        )


def all_positions(engine: sa.Engine) -> dict[str, PtzPosition]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(ptz_positions)).mappings()
        return {
            row["camera_id"]: PtzPosition(row["preset"], bool(row["paused"]), row["resume_ms"])
            for row in rows
        }


def forget_deleted(connection: sa.Connection) -> None:
    """Delete the positions of cameras no longer stored, within the caller's transaction that
    deleted them, so a camera and its position go together."""
    connection.execute(
        sa.delete(ptz_positions).where(ptz_positions.c.camera_id.not_in(sa.select(cameras.c.id)))
    )
