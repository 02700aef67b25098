"""Renders two example notices for people to look at, into docs/notices/: a reminder to Umeå
kommun a week before its council's agenda closes for the last meeting that can still adopt,
and the weekly digest to the director's office,
both as the policy makes them for the default process with its illustrative history.

    .venv/bin/python scripts/notice_examples.py            # .eml, .html and .png screenshots
    .venv/bin/python scripts/notice_examples.py --no-png   # without a browser

Each example is written as the message (.eml, open it in a mail client), its HTML part (.html)
and a screenshot of that HTML in Debian's chromium (.png). Only example.org addresses; every
example carries the illustrative history's EXEMPEL mark. Run from the repository's root."""

from __future__ import annotations

import argparse
import email.policy
import pathlib
import sys

import pendulum

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # tests.illustrative

from samverkan.notices.model import Notice, NoticeKind, Recipient
from samverkan.notifications.render import render

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "notices"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

SENDER = Recipient("samverkan@region-vasterbotten.example.org", "Samverkan, Region Västerbotten")
INSTANCE = "samverkan-2027-2030"


def _evaluation(at: pendulum.DateTime):
    """The default process with the shipped illustrative history, as the policy sees it at `at`."""
    from samverkan.notices.policy import evaluate
    from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
    from tests.illustrative import illustrative

    definition = load_definition(DEFAULT_DEFINITION).definition
    state, mark = illustrative(definition)
    return evaluate(definition, state, at, INSTANCE, [mark])


def reminder() -> tuple[Notice, pendulum.DateTime]:
    """What the policy sends Umeå kommun's secretary a week before the agenda closes for its
    council's last meeting in time (the sweep's own output, not hand-made facts)."""
    from samverkan.notices.policy import due_notices

    ahead = _evaluation(pendulum.datetime(2026, 11, 23, 9, 0, tz="Europe/Stockholm"))
    slot = next(r for r in ahead.plan.get("adoption", "umea").reminders if r.kind.value == "before" and r.offset == "P1W")
    send = slot.at
    notice = next(n for n in due_notices(_evaluation(send)) if (n.stage, n.party, n.kind_label) == ("adoption", "umea", "before-3")  # P4W, P2W, P1W
                  and n.recipient.email.startswith("kommunsekreterare"))
    return notice, send


def digest() -> tuple[Notice, pendulum.DateTime]:
    """The weekly digest the director's office gets on Monday 30 November 2026."""
    from samverkan.notices.policy import due_notices

    send = pendulum.datetime(2026, 11, 30, 8, 0, tz="Europe/Stockholm")
    notice = next(n for n in due_notices(_evaluation(send)) if n.kind is NoticeKind.digest)
    return notice, send


def write(name: str, notice: Notice, now: pendulum.DateTime) -> pathlib.Path:
    message = render(notice, SENDER, now)
    (OUT / f"{name}.eml").write_bytes(message.as_bytes(policy=email.policy.SMTP))
    html = message.get_body(("html",)).get_content()
    path = OUT / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return path


def screenshot(pages: list[pathlib.Path]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 800, "height": 600})
            for path in pages:
                page.goto(path.as_uri())
                page.screenshot(path=str(path.with_suffix(".png")), full_page=True)
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-png", action="store_true", help="skip the screenshots (no browser needed)")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    pages = [write("paminnelse", *reminder()), write("veckosammanstallning", *digest())]
    if not args.no_png:
        if not pathlib.Path(CHROMIUM).exists():
            print(f"error: {CHROMIUM} is missing (apt-get install chromium), or use --no-png", file=sys.stderr)
            return 2
        screenshot(pages)
    for path in pages:
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
