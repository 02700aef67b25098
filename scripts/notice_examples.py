"""Renders two example notices for people to look at, into docs/notices/: a reminder to Vännäs
kommun 14 days before the adoption deadline, and a weekly digest with late and rejected items.

    .venv/bin/python scripts/notice_examples.py            # .eml, .html and .png screenshots
    .venv/bin/python scripts/notice_examples.py --no-png   # without a browser

Each example is written as the message (.eml, open it in a mail client), its HTML part (.html)
and a screenshot of that HTML in Debian's chromium (.png). Only example.org addresses; every
example is marked EXEMPEL."""

from __future__ import annotations

import argparse
import email.policy
import pathlib
import sys

import pendulum

from samverkan.notices.model import Notice, NoticeKind, Recipient
from samverkan.notifications.render import render

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "notices"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

SENDER = Recipient("samverkan@region-vasterbotten.example.org", "Samverkan, Region Västerbotten")
PROCESS = "Överenskommelse om samverkan för regional utveckling 2027–2030"
INSTANCE = "samverkan-2027-2030"
MARK = "EXEMPEL – det här meddelandet visar hur Samverkan skriver. Inget i det gäller på riktigt."
ADOPTION = "Antagande av överenskommelse och samverkansavtal"


def reminder() -> tuple[Notice, pendulum.DateTime]:
    """The second reminder ("P2W" before) to Vännäs kommun's secretary: 14 days left."""
    send = pendulum.datetime(2026, 12, 16, 8, 0, tz="Europe/Stockholm")
    facts = {
        "process_name": PROCESS, "instance_id": INSTANCE, "marks": [MARK],
        "stage_id": "adoption", "stage_name": ADOPTION,
        "stage_description": "Varje part beslutar om både den gemensamma överenskommelsen och sitt eget "
                             "samverkansavtal, före 2027-01-01.",
        "party_id": "vannas", "party_name": "Vännäs kommun",
        "state_name": "Ärendet bereds",
        "actions": ["Registrera antagande", "Registrera avslag", "Registrera återremiss"],
        "deadline": "2026-12-30", "deadline_hard": True,
        "deadline_reason": "31 december är nyårsafton och ingen arbetsdag, så sista dagen är vardagen före.",
        "hard_limit": None, "days_left": 14,
        "decision_body": "Kommunfullmäktige",
        "ask_name": "Regionfullmäktiges sekreterare", "ask_email": "fullmaktige@region-vasterbotten.example.org",
        "overview": "Antagande pågår: 11 av 16 parter har antagit överenskommelsen, 1 har avslagit den och "
                    "4 har kvar att besluta; allt ska vara klart 30 december 2026.",
        "recipient_role": "sekreterare",
    }
    notice = Notice(instance_id=INSTANCE, kind=NoticeKind.before, sequence=2, stage="adoption", party="vannas",
                    due_date=pendulum.date(2026, 12, 30), send_at=send,
                    recipient=Recipient("kommunsekreterare@vannas.example.org", "Kommunsekreterare, Vännäs kommun"),
                    facts=facts)
    return notice, send


def digest() -> tuple[Notice, pendulum.DateTime]:
    """The digest of week 51 to the director's office: two late, one rejected, one failed notice."""
    send = pendulum.datetime(2026, 12, 14, 8, 0, tz="Europe/Stockholm")
    facts = {
        "process_name": PROCESS, "instance_id": INSTANCE, "marks": [MARK],
        "week": 51, "week_start": "2026-12-14",
        "overview": "Antagande pågår: 11 av 16 parter har antagit överenskommelsen, 1 har avslagit den och "
                    "4 har kvar att besluta; allt ska vara klart 30 december 2026.",
        "progress": [
            f"{ADOPTION}: 11 antagna, 1 avslag, 4 kvar (sista dag 30 december 2026)",
            "Undertecknande: väntar på att alla parter har antagit",
        ],
        "late": [
            {"stage_name": "Remiss av förslaget till parterna", "party_name": "Malå kommun", "deadline": "2026-11-27",
             "days_late": 17, "owner_name": "Region Västerbotten (näringslivschef)"},
            {"stage_name": "Remiss av förslaget till parterna", "party_name": "Sorsele kommun", "deadline": "2026-11-27",
             "days_late": 17, "owner_name": "Region Västerbotten (näringslivschef)"},
        ],
        "rejected": [
            {"stage_name": ADOPTION, "party_name": "Åsele kommun", "state_name": "Ej antaget",
             "reason": "Kommunfullmäktige beslutade att inte anta överenskommelsen (§142)", "blocks": ["Undertecknande"]},
        ],
        "blocked": [
            {"stage_name": "Undertecknande", "party_name": None,
             "waiting_on": ["Åsele kommun", "Dorotea kommun", "Malå kommun", "Sorsele kommun"]},
        ],
        "failed_notices": [
            {"recipient": "naringsliv@sorsele.example.org", "kind": "before-2",
             "stage_name": "Remiss av förslaget till parterna", "party_name": "Sorsele kommun",
             "reason": "adressen finns inte (550 5.1.1 från mottagarens e-postserver)"},
        ],
        "next_deadlines": [
            {"stage_name": ADOPTION, "party_name": "Dorotea kommun", "deadline": "2026-12-30", "days_left": 16},
            {"stage_name": ADOPTION, "party_name": "Vännäs kommun", "deadline": "2026-12-30", "days_left": 16},
            {"stage_name": "Undertecknande", "party_name": None, "deadline": "2026-12-30", "days_left": 16},
        ],
    }
    notice = Notice(instance_id=INSTANCE, kind=NoticeKind.digest, sequence=1, stage="", party="",
                    due_date=pendulum.date(2026, 12, 14), send_at=send,
                    recipient=Recipient("utvecklingsdirektor@region-vasterbotten.example.org",
                                        "Regionala utvecklingsdirektörens kansli"),
                    facts=facts)
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
