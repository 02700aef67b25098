"""A deadline as an iCalendar all-day event (RFC 5545), attached to the notices about a deadline
so that the recipient can put it in Outlook or Thunderbird with one click.

Kept to the basics every client accepts: VCALENDAR (PRODID, VERSION 2.0, CALSCALE GREGORIAN,
METHOD PUBLISH) with one VEVENT (UID, DTSTAMP in UTC, DTSTART and DTEND as dates, SUMMARY,
DESCRIPTION, TRANSP TRANSPARENT) and a display alarm the day before. The library escapes the
text and folds the lines."""

from __future__ import annotations

import datetime as dt
import hashlib

from icalendar import Alarm, Calendar, Event

PRODID = "-//Region Vasterbotten//Samverkan//SV"
ALARM_BEFORE = dt.timedelta(hours=15)  # 09:00 the day before the (all-day) deadline


def event_uid(identity: str, domain: str) -> str:
    """A UID that stays the same for the same deadline: a later reminder about it replaces the
    event in the recipient's calendar instead of adding a second one."""
    return f"{hashlib.sha256(identity.encode('utf-8')).hexdigest()}@{domain}"


def deadline_event(*, uid: str, deadline: dt.date, summary: str, description: str, alarm: str,
                   now: dt.datetime) -> bytes:
    """The calendar file: one all-day event on `deadline`, stamped `now` (converted to UTC)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")

    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now.astimezone(dt.timezone.utc))
    event.add("dtstart", deadline)
    event.add("dtend", deadline + dt.timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("transp", "TRANSPARENT")

    reminder = Alarm()
    reminder.add("action", "DISPLAY")
    reminder.add("trigger", -ALARM_BEFORE)
    reminder.add("description", alarm)
    event.add_component(reminder)

    calendar.add_component(event)
    return calendar.to_ical()
