"""Every page on a phone, a tablet and a desktop, in Chromium against the real `vigil serve`
(conftest.py): no wider than the screen, its main action visible and big enough to touch,
the menu collapsed behind a button on a phone; and axe-core finds nothing serious or critical.
Screenshots of each page at desktop and phone size go to artifacts/ui/ (docs/ui.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.server import Server
from tests.ui.a11y import violations
from tests.ui.conftest import Console, log_in

pytestmark = pytest.mark.browser

Shot = Callable[[Any, str], Path]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}
DESKTOP = {"width": 1440, "height": 900}
# Each page's main action: what an operator opens the page to do.
MAIN_ACTION = {
    "live": "[data-testid=camera-tile]",
    "review": "[data-testid=review-mark]",
    "events": "[data-testid=event-filters] select[name=camera]",
    "counters": "select[name=camera]",
    "statistics": "[data-testid=series-csv]",
    "alerts": "[data-testid=new-rule]",
    "users": "[data-testid=create-user] button",
}
TOUCH_PX = 44
WIDER_THAN_SCREEN = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture(scope="module")
def session(browser: Any, server: Server) -> Any:
    """One login for the module (the server limits login attempts per minute)."""
    context = browser.new_context()
    log_in(context, server)
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture
def admin(browser: Any, session: Any) -> Iterator[tuple[Any, Console]]:
    context = browser.new_context(viewport=DESKTOP, storage_state=session)
    tab = context.new_page()
    console = Console()
    tab.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    yield tab, console
    context.close()


@pytest.fixture(params=["phone", "tablet", "desktop"])
def sized(
    request: pytest.FixtureRequest, browser: Any, session: Any
) -> Iterator[tuple[Any, Console, str]]:
    size = {"phone": PHONE, "tablet": TABLET, "desktop": DESKTOP}[request.param]
    context = browser.new_context(
        viewport=size, has_touch=request.param != "desktop", storage_state=session
    )
    tab = context.new_page()
    console = Console()
    tab.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    yield tab, console, request.param
    context.close()


def open_page(tab: Any, server: Server, name: str) -> Any:
    tab.goto(f"{server.url}/#/{name}", wait_until="domcontentloaded")
    action = tab.locator(MAIN_ACTION[name]).first
    expect(action).to_be_visible(timeout=30_000)
    return action


@pytest.mark.parametrize("name", list(MAIN_ACTION))
def test_every_page_fits_the_screen_with_its_main_action_in_reach(
    server: Server, sized: tuple[Any, Console, str], name: str, screenshot: Shot
) -> None:
    tab, console, size = sized
    action = open_page(tab, server, name)
    tab.wait_for_timeout(500)  # late layout: tiles take their camera's shape
    assert tab.evaluate(WIDER_THAN_SCREEN) <= 0, f"{name} is wider than the {size} screen"
    action.scroll_into_view_if_needed()
    box = action.bounding_box()
    assert box is not None and box["x"] >= 0
    assert box["x"] + box["width"] <= tab.viewport_size["width"] + 0.5
    if size != "desktop":
        assert box["height"] >= TOUCH_PX, f"{name}'s main action is {box['height']} px high"
    if size in ("phone", "desktop"):
        screenshot(tab, f"page-{name}-{size}")
    assert console.errors == []


def test_the_phone_menu_is_collapsed_behind_a_button(
    server: Server, sized: tuple[Any, Console, str]
) -> None:
    tab, _console, size = sized
    open_page(tab, server, "live")
    toggle = tab.locator("[data-testid=menu-toggle]")
    nav = tab.locator(".nav")
    if size != "phone":
        expect(toggle).to_be_hidden()
        expect(nav.get_by_role("link", name="Events")).to_be_visible()
        return
    expect(nav.get_by_role("link", name="Events")).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    link = nav.get_by_role("link", name="Events")
    expect(link).to_be_visible()
    assert (link.bounding_box() or {}).get("height", 0) >= TOUCH_PX
    link.click()
    expect(tab.locator("[data-testid=event-filters]")).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")  # closed after choosing
    assert tab.evaluate(WIDER_THAN_SCREEN) <= 0


@pytest.mark.parametrize("name", list(MAIN_ACTION))
def test_axe_finds_nothing_serious_on_any_page(server: Server, admin: Any, name: str) -> None:
    tab, _console = admin
    open_page(tab, server, name)
    tab.wait_for_timeout(1000)
    found = violations(tab)
    assert found == [], f"{name}: {found}"


def test_axe_finds_nothing_serious_on_the_login_page_and_the_open_dialogs(
    server: Server, browser: Any, admin: Any
) -> None:
    anonymous = browser.new_context(viewport=DESKTOP)
    login = anonymous.new_page()
    login.goto(server.url, wait_until="domcontentloaded")
    expect(login.locator("[data-testid=login-form]")).to_be_visible(timeout=15_000)
    assert violations(login) == []
    anonymous.close()

    tab, _console = admin
    open_page(tab, server, "events")
    tab.locator("[data-testid=event-result]").first.click(timeout=30_000)
    expect(tab.locator("[data-testid=event-detail]")).to_be_visible()
    assert violations(tab) == []


def test_axe_reports_what_it_must(server: Server, admin: Any) -> None:
    """The check above can fail: a button without a name on a served page is reported."""
    tab, _console = admin
    open_page(tab, server, "alerts")
    tab.evaluate("""() => document.getElementById("page").append(
        Object.assign(document.createElement("button"), { className: "button" }))""")
    assert "button-name" in [item["id"] for item in violations(tab)]
