"""A screenshot of the dashboard's overview as the director's office sees it in the Prefect UI:
the default process with its illustrative history, judged on Monday 30 November 2026 (the
day of the example digest in docs/notices/), into docs/dashboard-overview.png.

    .venv/bin/python scripts/dashboard_example.py

Starts a throw-away Prefect server (SQLite in a temporary folder, a free port), publishes the
instance's dashboard artifacts as the process flow does, opens the overview artifact in
Debian's chromium and saves the whole page. Nothing is written anywhere else; the server is
stopped at the end. Run from the repository's root; takes a minute or so (the server's start)."""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

import pendulum

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # tests.*

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "dashboard-overview.png"
INSTANCE = "samverkan-2027-2030"
AT = pendulum.datetime(2026, 11, 30, 8, 0, tz="Europe/Stockholm")
VIEWPORT = {"width": 1280, "height": 900}
# The height of the page's tallest scrolling content, plus what lies above it.
_TALLEST = """() => Math.ceil(Math.max(document.documentElement.scrollHeight,
    ...[...document.querySelectorAll('*')].filter(e => e.scrollHeight > e.clientHeight + 1
        && ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))
      .map(e => e.scrollHeight + e.getBoundingClientRect().top + 32)))"""


def the_dashboard():
    """The dashboard the process flow would publish for the illustrative instance at AT."""
    from samverkan.dashboard.content import dashboard
    from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
    from tests.illustrative import illustrative

    definition = load_definition(DEFAULT_DEFINITION).definition
    state, mark = illustrative(definition)
    return dashboard(definition, state, AT, INSTANCE, [mark])


def screenshot(ui_url: str, out: pathlib.Path) -> None:
    from tests.browser import CHROMIUM_ARGS, open_artifact
    from playwright.sync_api import sync_playwright

    from samverkan.tasks.dashboard import artifact_key

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="sv-SE")
            page = context.new_page()
            open_artifact(page, ui_url, artifact_key(INSTANCE, "oversikt"))
            page.wait_for_load_state("networkidle")
            # The UI scrolls inside its own pane, not the page: make the window as tall as
            # what that pane holds, so the whole overview is in the picture.
            page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], page.evaluate(_TALLEST))})
            page.wait_for_timeout(500)
            page.screenshot(path=str(out), full_page=True)
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=OUT, help=f"where the PNG goes (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    if not pathlib.Path("/usr/bin/chromium").exists():
        print("error: /usr/bin/chromium is missing (apt-get install chromium)", file=sys.stderr)
        return 2
    from samverkan.tasks.dashboard import publish_dashboard
    from tests.prefect_server import client_environment, running_server

    dash = the_dashboard()
    with tempfile.TemporaryDirectory(prefix="samverkan-dashboard-") as home:
        with running_server(pathlib.Path(home)) as settings, client_environment(settings):
            publish_dashboard(dash)
            screenshot(settings.ui_url, args.out)
    print(args.out.resolve().relative_to(ROOT) if args.out.resolve().is_relative_to(ROOT) else args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
