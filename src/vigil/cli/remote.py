"""Commands that talk to a running Vigil over its HTTP API (as the web UI does)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
import yaml
from rich.console import Console
from rich.table import Table

from vigil.cli.common import fail

cameras = typer.Typer(
    help="List, add and remove cameras of a running server.", no_args_is_help=True
)
ApiUrl = Annotated[str, typer.Option("--api", envvar="VIGIL_API", help="Base URL of the server")]
DEFAULT_API = "http://127.0.0.1:8080"


def _request(method: str, api: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        token = os.environ.get("VIGIL_TOKEN")  # an API token: vigil users tokens create
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.request(
            method, api.rstrip("/") + path, timeout=30, headers=headers, **kwargs
        )
    except httpx.HTTPError as error:
        fail(f"cannot reach Vigil at {api}: {error}. Is `vigil serve` or `vigil demo` running?")
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        fail(f"{method} {path} failed ({response.status_code}): {detail}")
    return response


@cameras.command("list")
def list_cameras(
    api: ApiUrl = DEFAULT_API, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Cameras with their live status."""
    items = _request("GET", api, "/api/cameras").json()
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    table = Table("id", "name", "online", "in fps", "analysed fps", "dropped", "error")
    for item in items:
        status = item["status"] or {}
        table.add_row(
            item["id"],
            item["name"],
            "yes" if status.get("online") else "no",
            str(status.get("input_fps", "")),
            str(status.get("analysed_fps", "")),
            str(status.get("dropped_frames", "")),
            status.get("last_error") or "",
        )
    Console().print(table)


@cameras.command("add")
def add_camera(
    camera_id: Annotated[str, typer.Argument(help="New camera id (lower-case, digits, - _)")],
    url: Annotated[str, typer.Argument(help="rtsp://…, http(s)://… MJPEG/snapshot, or a file")],
    name: Annotated[str, typer.Option(help="Display name")] = "",
    fps: Annotated[float, typer.Option(help="Frames analysed per second")] = 5.0,
    settings: Annotated[
        Path | None, typer.Option(help="YAML file with zones, lines and modules for the camera")
    ] = None,
    api: ApiUrl = DEFAULT_API,
) -> None:
    """Start analysing a new camera."""
    body: dict[str, Any] = {}
    if settings:
        try:
            body = yaml.safe_load(settings.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            fail(f"cannot read {settings}: {error}")
    body.update({"id": camera_id, "url": url, "analysis_fps": fps, "name": name or camera_id})
    created = _request("POST", api, "/api/cameras", json=body).json()
    typer.echo(f"camera {created['id']} added")  # a tenant's camera: with the tenant's prefix


@cameras.command("remove")
def remove_camera(camera_id: Annotated[str, typer.Argument()], api: ApiUrl = DEFAULT_API) -> None:
    """Stop analysing a camera (its stored events stay)."""
    _request("DELETE", api, f"/api/cameras/{camera_id}")
    typer.echo(f"camera {camera_id} removed")


def events(
    camera: Annotated[str | None, typer.Option(help="Camera id")] = None,
    class_name: Annotated[
        str | None, typer.Option("--class", help="Object class, e.g. person")
    ] = None,
    module: Annotated[str | None, typer.Option(help="Module, e.g. line")] = None,
    start: Annotated[str | None, typer.Option(help="ISO 8601 start time")] = None,
    end: Annotated[str | None, typer.Option(help="ISO 8601 end time")] = None,
    limit: Annotated[int, typer.Option(help="Events to show")] = 20,
    output: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
    api: ApiUrl = DEFAULT_API,
) -> None:
    """Query stored events of a running server, newest first."""
    params = {
        k: v
        for k, v in {
            "camera": camera,
            "class": class_name,
            "module": module,
            "start": start,
            "end": end,
            "limit": limit,
        }.items()
        if v
    }
    if output == "csv":
        typer.echo(_request("GET", api, "/api/events", params={**params, "format": "csv"}).text)
        return
    items = _request("GET", api, "/api/events", params=params).json()["items"]
    if output == "json":
        typer.echo(json.dumps(items, indent=2))
        return
    table = Table("start (UTC)", "camera", "type", "class", "zone/line", "dir", "dwell s", "id")
    for item in items:
        when = datetime.fromtimestamp(item["start_ms"] / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            when,
            item["camera_id"],
            item["type"],
            item["object"]["class_name"],
            item.get("zone") or item.get("line") or "",
            item.get("direction") or "",
            f"{item['dwell_s']:.1f}" if item.get("dwell_s") is not None else "",
            item["id"],
        )
    Console().print(table)
