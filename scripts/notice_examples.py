"""Renders example notices for people to look at, into docs/notices/, each as the policy makes
it for the default process with its illustrative history (driven forward where needed):

- paminnelse: a reminder to Umeå kommun a week before its council's agenda closes for the
  last meeting that can still adopt;
- registrera-beslut: the reminder to Robertsfors kommun, the day after its council's last
  meeting in time, to register the decision taken there;
- eskalering: the escalation to the project lead and the director's office once Robertsfors'
  decision is still not registered when its minutes were due;
- nej-till-kansliet and nej-bekraftelse: Vännäs kommun's "no", as the office is told at once
  and as the party's confirmation;
- veckosammanstallning: the weekly digest to the director's office.

    .venv/bin/python scripts/notice_examples.py            # .eml, .html and .png screenshots
    .venv/bin/python scripts/notice_examples.py --no-png   # without a browser

Each example is written as the message (.eml, open it in a mail client), its HTML part (.html)
and a screenshot of that HTML in Debian's chromium (.png). A message that says how to act gets
an obviously made-up one-time code and form address, put in as the sweep puts in real ones, so
the picture shows what a recipient reads. Only example.org addresses; every example carries the
illustrative history's EXEMPEL mark. Run from the repository's root."""

from __future__ import annotations

import argparse
import email.policy
import pathlib
import sys
import uuid

import pendulum

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))  # tests.illustrative

from samverkan.graph import Node
from samverkan.notices.model import Credentials, Notice, NoticeKind, Recipient
from samverkan.notifications.credentials import fill
from samverkan.notifications.render import POLICY, render

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "notices"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

SENDER = Recipient("samverkan@region-vasterbotten.example.org", "Samverkan, Region Västerbotten")
INSTANCE = "samverkan-2027-2030"
# What a recipient would find in place of the code and form marks: plainly an example.
EXAMPLE_CODE = "1234-ABCD-5678-EFGH"
DASHBOARD = "https://samverkan.region-vasterbotten.example.org"


def _local(day: str, hour: int = 8) -> pendulum.DateTime:
    return pendulum.parse(day, tz="Europe/Stockholm").add(hours=hour)


def _illustrative():
    """The default definition, and its state after the shipped illustrative history, with the mark."""
    from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
    from tests.illustrative import illustrative

    definition = load_definition(DEFAULT_DEFINITION).definition
    return (definition, *illustrative(definition))


def _evaluation(at: pendulum.DateTime):
    """The default process with the shipped illustrative history, as the policy sees it at `at`."""
    from samverkan.notices.policy import evaluate

    definition, state, mark = _illustrative()
    return evaluate(definition, state, at, INSTANCE, [mark])


def _first_due(kind: NoticeKind, start: pendulum.DateTime, wanted) -> tuple[Notice, pendulum.DateTime]:
    """The first notice of `kind` the sweep would queue, day by day from `start` with nothing
    more recorded, for which `wanted(notice)` holds; sent at its own slot."""
    from samverkan.notices.policy import due_notices

    for day in range(60):
        at = start.add(days=day)
        for notice in due_notices(_evaluation(at)):
            if notice.kind is kind and wanted(notice):
                return notice, notice.send_at.in_timezone("Europe/Stockholm")
    raise SystemExit(f"no {kind.value} notice in the 60 days from {start.date()}: has the policy or the history changed?")


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


def registration_reminder() -> tuple[Notice, pendulum.DateTime]:
    """The reminder to Robertsfors kommun's secretary the day after its council's last meeting
    in time, with no decision registered: register the decision taken there."""
    return _first_due(NoticeKind.overdue, _local("2026-11-24"),
                      lambda n: n.party == "robertsfors" and n.facts.get("awaiting_registration")
                      and n.recipient.email.startswith("kommunsekreterare"))


def escalation() -> tuple[Notice, pendulum.DateTime]:
    """The first escalation if nothing more is recorded after the history: Robertsfors' decision
    still not registered once its minutes were due (kommunallagen 8 kap. 12 §), to the project lead."""
    return _first_due(NoticeKind.escalation, _local("2026-11-24"), lambda n: n.recipient.email.startswith("projektledare"))


def vannas_says_no() -> tuple[Notice, Notice, pendulum.DateTime]:
    """Vännäs kommun's secretary registers, the day after the meeting, that its council did not
    adopt (as in scenarios/vannas-declines-umea-amends.yaml): (what the director's office is told
    at once, the party's own confirmation, when they go)."""
    from samverkan import engine
    from samverkan.notices.policy import evaluate, event_notices
    from tests.illustrative import adoption_request

    definition, state, mark = _illustrative()
    now = _local("2026-11-24", 10)
    changes = engine.decide(definition, state, adoption_request("vannas", "rejected", "2026-11-23", "§ 142", "ej antagen", "ej antaget"), now)
    for change in changes:
        state[change.node] = change.after
    notices = [n for n in event_notices(evaluate(definition, state, now, INSTANCE, [mark]), changes)
               if n.kind is NoticeKind.confirmation]
    office = next(n for n in notices if n.facts.get("to_office") and n.recipient.email.startswith("utvecklingsdirektor"))
    party = next(n for n in notices if not n.facts.get("to_office") and n.recipient.email.startswith("kommunsekreterare"))
    return office, party, office.send_at.in_timezone("Europe/Stockholm")


def _example_credentials(notice: Notice) -> Credentials:
    """A plainly made-up code and the form's address as the dashboard would give it."""
    run = uuid.uuid5(uuid.NAMESPACE_URL, f"samverkan-exempel:{notice.instance_id}:{Node(notice.stage, notice.party or None).key}")
    return Credentials(EXAMPLE_CODE, f"{DASHBOARD}/runs/flow-run/{run}")


def write(name: str, notice: Notice, now: pendulum.DateTime) -> pathlib.Path:
    raw = fill(render(notice, SENDER, now).as_bytes(policy=POLICY), _example_credentials(notice), notice.language)
    (OUT / f"{name}.eml").write_bytes(raw)
    message = email.message_from_bytes(raw, policy=email.policy.default)
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
    office, party, decided = vannas_says_no()
    pages = [write("paminnelse", *reminder()), write("registrera-beslut", *registration_reminder()),
             write("eskalering", *escalation()), write("nej-till-kansliet", office, decided),
             write("nej-bekraftelse", party, decided), write("veckosammanstallning", *digest())]
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
