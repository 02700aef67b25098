"""Writes the invented 2026 meeting calendars of the 16 parties that the default definition
ships as examples (`example: true`). Not any party's real calendar: plausible dates, one
pattern per party, so that each adoption branch gets its own last meeting before New Year.

    .venv/bin/python scripts/example_calendars.py > /tmp/calendars.yaml
"""

from __future__ import annotations

import datetime as dt

# party, the council's meetings in 2026 (a day per month of MONTHS, or a (month, day) pair),
# the board's and the council's agenda lead
MUNICIPALITIES = [
    # id,          council (Feb, Apr, Jun, Sep, Oct, Nov, Dec)      KS lead  KF lead
    ("bjurholm",    (23, 20, 15, 7, 26, 9, (11, 30)), "P3W", "P2W"),
    ("dorotea",     (24, 21, 16, 8, 27, 24, 15), "P2W", "P2W"),
    ("lycksele",    (16, 13, 8, 1, 19, 16, 7), "P3W", "P3W"),
    ("mala",        (17, 14, 9, 2, 20, 17, 8), "P2W", "P2W"),
    ("nordmaling",  (25, 22, 17, 9, 28, 25, 16), "P5D", "P2W"),
    ("norsjo",      (18, 15, 10, 3, 21, 18, 9), "P2W", "P3W"),
    ("robertsfors", (26, 23, 18, 10, 29, 5, (11, 26)), "P2W", "P2W"),
    ("skelleftea",  (24, 21, 16, 1, 27, 24, 1), "P3W", "P3W"),
    ("sorsele",     (19, 16, 11, 4, 22, 19, 10), "P3W", "P2W"),
    ("storuman",    (20, 17, 12, 4, 23, 20, 11), "P2W", "P1W"),
    ("umea",        (23, 27, 22, 7, 26, 30, 18), "P1W", "P2W"),
    ("vilhelmina",  (16, 20, 15, 7, 19, 16, 2), "P2W", "P3W"),
    ("vindeln",     (17, 21, 16, 8, 20, 17, 3), "P3W", "P2W"),
    ("vannas",      (23, 27, 22, 8, 26, 23, 14), "P2W", "P2W"),
    ("asele",       (25, 22, 17, 9, 28, 25, 4), "P2W", "P2W"),
]
MONTHS = (2, 4, 6, 9, 10, 11, 12)
# Boards that also meet late in the year, close to their council's last meeting.
EXTRA_BOARD = {"umea": [dt.date(2026, 12, 3)], "nordmaling": [dt.date(2026, 12, 1)], "storuman": [dt.date(2026, 11, 30)]}
EXAMPLE = "EXEMPEL: påhittade sammanträdesdagar för 2026, inte partens publicerade kalender"


def weekday_before(day: dt.date, days: int) -> dt.date:
    """The board meets about `days` before the council, on a Monday–Thursday."""
    board = day - dt.timedelta(days=days)
    while board.weekday() > 3:
        board -= dt.timedelta(days=1)
    return board


def flow(days: list[dt.date]) -> str:
    return "[" + ", ".join(d.isoformat() for d in sorted(days)) + "]"


def municipality(party: str, council_days: tuple[int, ...], ks_lead: str, kf_lead: str) -> str:
    # A (month, day) pair: a council whose last meeting of the year is earlier than December.
    council = [dt.date(2026, *d) if isinstance(d, tuple) else dt.date(2026, m, d) for m, d in zip(MONTHS, council_days)]
    lead_days = 21 if kf_lead == "P3W" else 14
    board = [weekday_before(day, lead_days + 3) for day in council]
    board += [dt.date(2026, 1, 20), dt.date(2026, 3, 17), dt.date(2026, 5, 12), dt.date(2026, 8, 18), *EXTRA_BOARD.get(party, [])]
    return (f"    - party: {party}\n      example: true\n      source: \"{EXAMPLE}\"\n      bodies:\n"
            f"        - {{id: ks, name: Kommunstyrelsen, agenda_closes: {ks_lead}, meetings: {flow(set(board))}}}\n"
            f"        - {{id: kf, name: Kommunfullmäktige, agenda_closes: {kf_lead}, meetings: {flow(council)}}}\n")


def region() -> str:
    run = [dt.date(2026, m, d) for m, d in ((1, 28), (3, 11), (5, 6), (6, 3), (8, 26), (10, 21), (11, 11), (12, 2))]
    rs = [dt.date(2026, m, d) for m, d in ((2, 3), (3, 24), (5, 19), (6, 9), (9, 1), (10, 27), (11, 24), (12, 8))]
    # Regionfullmäktige's April meeting is the 30th: the day the plan and the illustrative
    # history give its decision on the updated RUS ("i april 2026", seeds/003).
    rf = [dt.date(2026, m, d) for m, d in ((2, 17), (4, 30), (6, 16), (9, 8), (10, 20), (11, 17), (12, 17))]
    return (f"    - party: region-vasterbotten\n      example: true\n      source: \"{EXAMPLE}\"\n      bodies:\n"
            f"        - {{id: run, name: Regionala utvecklingsnämnden, agenda_closes: P2W, meetings: {flow(run)}}}\n"
            f"        - {{id: rs, name: Regionstyrelsen, agenda_closes: P10D, meetings: {flow(rs)}}}\n"
            f"        - {{id: rf, name: Regionfullmäktige, agenda_closes: P1W, meetings: {flow(rf)}}}\n")


if __name__ == "__main__":
    print("  calendars:")
    print(region() + "".join(municipality(*row) for row in MUNICIPALITIES), end="")
