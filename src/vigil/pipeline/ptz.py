"""PTZ cameras moved through Vigil: each preset has its own zones and lines, the modules pause
while the camera moves, and a camera left away from its home preset returns there by itself.

Analytics need geometry that matches the picture; a PTZ camera turned to another preset shows
another scene, where the home preset's zones and lines mean nothing. So a move (1) has the
camera analysed without modules, (2) asks the camera to go (ONVIF GotoPreset, with the
credentials stored with the camera), and (3) once it has settled, has it analysed with the
modules and that preset's geometry. The engine does (1) and (3) (`EngineControl.analyse_as`):
a single node restarts the camera; a cluster records the position in the store, where the
camera's worker reads it. One timer per camera brings it home after
`return_home_s` without a move. A manual move (pan, tilt, zoom by a step) leaves every preset,
so no zone or line fits the picture: the modules stay paused until the camera is sent to a
preset again, by the operator or by the return home. Only moves made through Vigil are known
here: a camera turned from its own web page keeps the geometry of the preset Vigil last sent
it to.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from vigil.config import CameraConfig
from vigil.domain.onvif_address import parse_onvif_url
from vigil.pipeline.control import EngineControl
from vigil.pipeline.ptz_geometry import analysed_at
from vigil.sources import onvif
from vigil.sources.policy import SourcePolicy

log = logging.getLogger(__name__)
# The longest a camera is waited for to accept a move. It also bounds a move's pause on a
# cluster: should this API node stop before the camera settled, its worker resumes the
# modules by itself this long after the settling was due (EngineControl.analyse_as).
MOVE_TIMEOUT_S = 30.0


def _ask(call: Coroutine[Any, Any, None]) -> None:
    """Run one ONVIF call to a camera, given up after MOVE_TIMEOUT_S."""
    try:
        asyncio.run(asyncio.wait_for(call, MOVE_TIMEOUT_S))
    except TimeoutError:
        raise onvif.OnvifProblem(f"the camera did not answer within {MOVE_TIMEOUT_S:g} s") from None


@dataclass(frozen=True, slots=True)
class PtzState:
    preset: str | None  # where Vigil last sent it; None: not moved since the server started
    moving: bool  # modules paused until it settles
    off_preset: bool  # moved by hand since: modules paused until it is at a preset again
    home_in_s: float | None  # seconds until it returns home, when that is due


@dataclass(slots=True)
class _Camera:
    preset: str | None = None
    moving: bool = False
    off_preset: bool = False
    home_at: float | None = None  # monotonic time of the return home
    settle: threading.Timer | None = None
    home: threading.Timer | None = None

    def cancel(self) -> None:
        for timer in (self.settle, self.home):
            if timer is not None:
                timer.cancel()
        self.settle = self.home = None
        self.home_at = None


class PtzControl:
    """Moves PTZ cameras and keeps their analysis in step. `lookup` gives a camera's current
    settings (stored or running), so a timer acts on what is saved when it fires."""

    def __init__(
        self,
        engine: EngineControl,
        policy: SourcePolicy,
        lookup: Callable[[str], CameraConfig | None],
    ) -> None:
        self.engine = engine
        self.policy = policy
        self.lookup = lookup
        self._cameras: dict[str, _Camera] = {}
        self._lock = threading.Lock()

    def state(self, camera_id: str) -> PtzState:
        with self._lock:
            known = self._cameras.get(camera_id, _Camera())
            home_in = None if known.home_at is None else max(0.0, known.home_at - time.monotonic())
            return PtzState(
                preset=known.preset,
                moving=known.moving,
                off_preset=known.off_preset,
                home_in_s=home_in,
            )

    def analysed(self, camera: CameraConfig) -> CameraConfig:
        """What the engine should run for these (just saved) settings: the geometry of the
        preset the camera is at, without modules while it moves."""
        with self._lock:
            state = self._cameras.get(camera.id)
            preset = state.preset if state else None
            paused = state is not None and (state.moving or state.off_preset)
        return analysed_at(camera, preset, paused)

    def goto(self, camera_id: str, preset: str) -> None:
        """Move the camera to `preset` and analyse it with that preset's geometry.
        ValueError: the camera has no PTZ settings; onvif.OnvifProblem or PolicyRefusal: the
        camera could not be moved (its analysis is then restored as it was)."""
        camera = self.lookup(camera_id)
        if camera is None or camera.ptz is None:
            raise ValueError(f"camera {camera_id!r} has no ptz settings")
        ptz = camera.ptz
        address = parse_onvif_url(ptz.onvif_url)
        host = self.policy.addresses(address.host, address.port)[0]
        with self._lock:
            state = self._cameras.setdefault(camera_id, _Camera())
            state.cancel()
            previous, was_off = state.preset, state.off_preset
            state.moving = True
        running = any(c.id == camera_id for c in self.engine.cameras())
        if running:
            self.engine.analyse_as(
                camera, preset, paused=True, resume_after_s=MOVE_TIMEOUT_S + ptz.settle_s
            )
        try:
            _ask(
                onvif.goto_preset(
                    host,
                    address.port,
                    address.username,
                    address.password,
                    ptz.profile,
                    preset,
                    self.policy,
                )
            )
        except Exception:
            with self._lock:
                state.moving = False
            if running:
                self.engine.analyse_as(camera, previous, paused=was_off)
            raise
        with self._lock:
            state.preset = preset
            state.off_preset = False
            state.settle = self._timer(ptz.settle_s, self._settled, camera_id, preset)
            if preset != ptz.home_preset:
                self._schedule_home(camera_id, state, camera)

    def move(self, camera_id: str, step: onvif.PtzStep) -> None:
        """Pan, tilt or zoom the camera by `step`. It is then at no preset, so its modules
        pause until it goes to one (its home preset after `return_home_s`, where set).
        Errors as for `goto`; after one the camera is taken to be where it was."""
        camera = self.lookup(camera_id)
        if camera is None or camera.ptz is None:
            raise ValueError(f"camera {camera_id!r} has no ptz settings")
        address = parse_onvif_url(camera.ptz.onvif_url)
        host = self.policy.addresses(address.host, address.port)[0]
        with self._lock:
            state = self._cameras.setdefault(camera_id, _Camera())
            was_off = state.off_preset
            state.cancel()  # a pending settle included: the step supersedes that move
            state.moving = False
            state.off_preset = True
        running = any(c.id == camera_id for c in self.engine.cameras())
        if running and not was_off:
            self.engine.analyse_as(camera, state.preset, paused=True)
        try:
            _ask(
                onvif.relative_move(
                    host,
                    address.port,
                    address.username,
                    address.password,
                    camera.ptz.profile,
                    step,
                    self.policy,
                )
            )
        except Exception:
            with self._lock:
                state.off_preset = was_off
            if running and not was_off:
                self.engine.analyse_as(camera, state.preset, paused=False)
            raise
        with self._lock:
            self._schedule_home(camera_id, state, camera)

    def _schedule_home(self, camera_id: str, state: _Camera, camera: CameraConfig) -> None:
        """Called with the lock held: the return home, when the camera has one."""
        ptz = camera.ptz
        if ptz is not None and ptz.home_preset and ptz.return_home_s:
            state.home_at = time.monotonic() + ptz.return_home_s
            state.home = self._timer(
                ptz.return_home_s, self._return_home, camera_id, ptz.home_preset
            )

    def forget(self, camera_id: str) -> None:
        """The camera was deleted: no timer may act on it any more."""
        with self._lock:
            state = self._cameras.pop(camera_id, None)
            if state is not None:
                state.cancel()

    @staticmethod
    def _timer(delay_s: float, action: Callable[[str, str], None], *args: str) -> threading.Timer:
        timer = threading.Timer(delay_s, action, args)
        timer.daemon = True
        timer.start()
        return timer

    def _settled(self, camera_id: str, preset: str) -> None:
        with self._lock:
            state = self._cameras.get(camera_id)
            if state is None or state.preset != preset:
                return  # moved again (or deleted) since
            state.moving = False
            state.settle = None
        camera = self.lookup(camera_id)
        if camera is None or not any(c.id == camera_id for c in self.engine.cameras()):
            return
        try:
            self.engine.analyse_as(camera, preset, paused=False)
        except (KeyError, ValueError) as error:
            log.warning(
                "camera %s at preset %s could not resume analysis: %s", camera_id, preset, error
            )

    def _return_home(self, camera_id: str, home: str) -> None:
        try:
            self.goto(camera_id, home)
        except Exception as error:  # a timer thread has no caller to tell; the log does
            log.warning("camera %s could not return to home preset %s: %s", camera_id, home, error)
