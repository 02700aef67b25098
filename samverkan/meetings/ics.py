"""A party's meeting calendar read from an iCalendar (.ics) file: a pure function of the file's
bytes, the bodies to look for, and a range of days.

An event belongs to the body whose match text (by default its name) occurs as whole words,
in any case, in the event's SUMMARY or CATEGORIES: "Kommunstyrelsen" finds "Kommunstyrelsen
i Åsele" but not "Kommunstyrelsens arbetsutskott". When several bodies' texts occur, the
longest wins. Recurrences (RRULE, RDATE, EXDATE, and occurrences moved or cancelled by a
RECURRENCE-ID) are expanded with recurring-ical-events; each meeting's day is its start in
Europe/Stockholm (an all-day event's first day). Cancelled meetings are skipped and a body's
meetings on one day count once.

Malformed input is refused with one line per problem, all of them at once, each naming the
file. Only the events of the given bodies are checked: a broken event of another committee
does not stop the import (it is counted as ignored, like every event of no given body).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from samverkan.errors import SamverkanError
from samverkan.text import SLUG, shown

if TYPE_CHECKING:  # the parsers are imported where used: they take tens of milliseconds
    from samverkan.process_definitions.model import MeetingCalendar

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MAX_RANGE_DAYS = 5 * 366  # a calendar is published per year; five years is a typo already
MAX_MEETINGS = 1000  # per event's series in the range: a body meeting more often is not a council
# Bounds on one file, checked on its text before anything is parsed or expanded: a real
# calendar of a municipality's committees holds hundreds of events, a handful of time zones and
# a few hundred listed dates; a file past these is refused in one line, in bounded time.
MAX_EVENTS = 5000
MAX_TIMEZONES = 50
MAX_LISTED_DATES = 5000  # RDATE and EXDATE values in all
MAX_OCCURRENCES = 5000  # occurrences in the range of all the bodies' series together
_UNFOLD = re.compile(r"\r?\n[ \t]")
# The properties that decide when an event happens: a broken one is a problem, a broken
# DESCRIPTION or ATTENDEE is not. None stands for a line that is no property at all.
_DATE_PROPERTIES = {"DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", None}
_FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}

# Why an event (or one occurrence of it) is not a meeting in the result.
OTHER_BODY = "not a meeting of a body looked for"
CANCELLED = "cancelled (STATUS:CANCELLED)"
SAME_DAY = "the body already meets that day"


@dataclass(frozen=True)
class BodyMatch:
    """A body to look for: what the calendar entry calls it, and the text that finds its events."""

    id: str
    name: str
    agenda_closes: str  # a period text: P2W, P10D
    match: str | None = None  # default: the name

    @property
    def match_text(self) -> str:
        return self.match if self.match is not None else self.name


@dataclass(frozen=True)
class Ignored:
    """An event, or one day of a recurring one, that is not a meeting in the result."""

    event: int  # its number in the file, from 1
    summary: str
    day: dt.date | None  # None: the whole event
    reason: str


@dataclass(frozen=True)
class Imported:
    calendar: MeetingCalendar
    events: int  # VEVENTs in the file
    meetings: dict[str, int]  # body id -> meetings in the range
    ignored: tuple[Ignored, ...] = field(default=())

    def ignored_by_reason(self) -> dict[str, int]:
        return dict(Counter(i.reason for i in self.ignored))


def body_problems(bodies: list[BodyMatch]) -> list[str]:
    """What is wrong with the bodies to look for, one line each (no file named)."""
    from samverkan.calendar import MAX_PERIOD_DAYS, InvalidPeriod, parse_period

    problems: list[str] = []
    if not bodies:
        problems.append("no body to look for: give at least one, the deciding body last")
    ids: Counter[str] = Counter(b.id for b in bodies)
    matches: Counter[str] = Counter(_normal(b.match_text) for b in bodies)
    for body in bodies:
        what = f"body {shown(body.id)}"
        if not SLUG.fullmatch(body.id) or len(body.id) > 63:
            problems.append(f"{what}: not a valid id: use lowercase a–z, 0–9 and single dashes, e.g. kf")
        if not body.name.strip() or len(body.name) > 200 or not body.name.isprintable():
            problems.append(f"{what}: name {shown(body.name)} must be one line of 1–200 characters")
        try:
            period = parse_period(body.agenda_closes.strip())
            if period.approx_days > MAX_PERIOD_DAYS:
                problems.append(f"{what}: period {shown(body.agenda_closes)} is longer than ten years")
        except InvalidPeriod as error:
            problems.append(f"{what}: {error}")
        if body.match is not None and not _normal(body.match):
            problems.append(f"{what}: the match text is empty")
        elif matches[_normal(body.match_text)] > 1 and body is next(b for b in bodies if _normal(b.match_text) == _normal(body.match_text)):
            problems.append(f"{what}: two bodies are found by the same text {shown(body.match_text)}; give each its own MATCH")
        if ids[body.id] > 1 and body is next(b for b in bodies if b.id == body.id):
            problems.append(f"{what}: the id is given twice")
    return problems


def import_calendar(data: bytes, source: str, party: str, bodies: list[BodyMatch], start: dt.date, end: dt.date, *,
                    example: bool = False, shown_as: str | None = None) -> Imported:
    """The party's calendar: each body's meetings from `start` to `end` (both included).

    source: where the dates come from, kept in the calendar (a file's name, a web address);
    shown_as: how messages name the file (default: source). Raises SamverkanError with one
    line per problem, each beginning with the file's name."""
    name = shown_as if shown_as is not None else source
    problems = [f"{name}: {p}" for p in body_problems(bodies)]
    if end < start:
        problems.append(f"{name}: the range ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    elif (end - start).days > MAX_RANGE_DAYS:
        problems.append(f"{name}: the range {start.isoformat()} to {end.isoformat()} is longer than five years; import a year at a time")
    if problems:
        raise SamverkanError(*problems)

    calendars = _parse(data, name)
    reader = _Reader(name, bodies, start, end)
    for calendar in calendars:
        reader.read(calendar)
    problems = reader.problems
    if reader.events == 0:
        problems.append(f"{name}: holds no events (VEVENT)")
    else:
        for body in bodies:
            if not reader.days[body.id] and body.id not in reader.broken:
                why = (f"its {reader.found[body.id]} event(s) fall outside the range or are cancelled" if reader.found[body.id]
                       else f"no event names {shown(body.match_text)} in its SUMMARY or CATEGORIES")
                problems.append(f"{name}: no meeting of body {body.id} ({body.name}) between {start.isoformat()} and "
                                f"{end.isoformat()}: {why}")
    if problems:
        raise SamverkanError(*problems)
    calendar = _validated(name, party, example, source, bodies, reader.days)
    return Imported(calendar, reader.events, {b.id: len(reader.days[b.id]) for b in bodies}, tuple(reader.ignored))


def _parse(data: bytes, name: str) -> list:
    """The file's calendars (icalendar components), or the one problem that stops reading it."""
    import icalendar

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SamverkanError(f"{name}: not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start}); "
                             "save the file as UTF-8") from None
    if not text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        raise SamverkanError(f"{name}: not an iCalendar file (no BEGIN:VCALENDAR)")
    too_much = _size_problems(text)
    if too_much:
        raise SamverkanError(*(f"{name}: {problem}" for problem in too_much))
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as error:  # the parser's own words: ValueError mostly, whatever the line held
        raise SamverkanError(f"{name}: not a valid iCalendar file: {_words(error)}") from None
    calendars = [c for c in calendars if c.name == "VCALENDAR"]
    if not calendars:
        raise SamverkanError(f"{name}: not a valid iCalendar file: the calendar never ends (no END:VCALENDAR)")
    return calendars


def _size_problems(text: str) -> list[str]:
    """What makes the file too big to be a meeting calendar, counted on its unfolded lines."""
    events = timezones = dates = 0
    for line in _UNFOLD.sub("", text).splitlines():
        head = line[:16].upper()
        if head.startswith("BEGIN:VEVENT"):
            events += 1
        elif head.startswith("BEGIN:VTIMEZONE"):
            timezones += 1
        elif head.startswith(("RDATE", "EXDATE")):
            dates += line.count(",") + 1
    problems = []
    if events > MAX_EVENTS:
        problems.append(f"holds {events} events; a meeting calendar holds at most {MAX_EVENTS}")
    if timezones > MAX_TIMEZONES:
        problems.append(f"holds {timezones} time zones (VTIMEZONE); a meeting calendar needs at most {MAX_TIMEZONES}")
    if dates > MAX_LISTED_DATES:
        problems.append(f"lists {dates} dates in RDATE and EXDATE; a meeting calendar lists at most {MAX_LISTED_DATES}")
    return problems


class _Reader:
    """Reads calendars event by event, collecting meeting days, ignored events and problems."""

    def __init__(self, name: str, bodies: list[BodyMatch], start: dt.date, end: dt.date) -> None:
        self.name = name
        self.bodies = bodies
        self.start, self.end = start, end
        self.patterns = [(b, _pattern(b.match_text)) for b in bodies]
        self.events = 0
        self.days: dict[str, set[dt.date]] = {b.id: set() for b in bodies}
        self.ignored: list[Ignored] = []
        self.problems: list[str] = []
        self.broken: set[str] = set()  # bodies with an event in the problems: "no meeting" would say it twice
        self.found: Counter[str] = Counter()  # events found per body, in the range or not
        self.occurrences = 0  # expanded so far, of all series: bounded by MAX_OCCURRENCES
        self.exhausted = False

    def read(self, calendar) -> None:
        # Events sharing a UID are one series (a master and its moved or cancelled occurrences);
        # each series is expanded on its own, so a problem is the problem of its own event.
        self.tzids = {str(zone.get("TZID", "")) for zone in calendar.walk("VTIMEZONE")}
        series: dict[str, list[tuple[int, object]]] = {}
        for component in calendar.walk("VEVENT"):
            self.events += 1
            uid = str(component.get("UID", "")) or f"\x00{self.events}"  # no UID: a series of its own
            series.setdefault(uid, []).append((self.events, component))
        for events in series.values():
            if self.exhausted:
                return
            self._series(calendar, events)

    def _series(self, calendar, events: list) -> None:
        if not any(self._body(event) for _, event in events):
            self.ignored += [Ignored(number, _summary(event), None, OTHER_BODY) for number, event in events]
            return
        self.found.update(body.id for _, event in events if (body := self._body(event)))
        problems = [p for number, event in events for p in self._event_problems(number, event)]
        if problems:
            self.problems += problems
            self.broken |= {body.id for _, event in events if (body := self._body(event))}
            return
        master, first = next(((n, e) for n, e in events if "RECURRENCE-ID" not in e), events[0])
        budget = MAX_OCCURRENCES - self.occurrences
        try:
            occurrences = _expand(calendar, [event for _, event in events], self.start, self.end, min(MAX_MEETINGS, budget))
        except Exception as error:  # the expander's own words; the event is named, never a traceback
            self.problems.append(f"{self._label(master, first)}: its recurrence cannot be expanded: {_words(error)}")
            self.broken |= {body.id for _, event in events if (body := self._body(event))}
            return
        self.occurrences += len(occurrences)
        if len(occurrences) > budget:
            self.exhausted = True
            self.problems.append(f"{self.name}: its events recur more than {MAX_OCCURRENCES} times between "
                                 f"{self.start.isoformat()} and {self.end.isoformat()}: not a meeting calendar")
            return
        if len(occurrences) > MAX_MEETINGS:
            self.broken |= {body.id for _, event in events if (body := self._body(event))}
            self.problems.append(f"{self._label(master, first)}: recurs more than {MAX_MEETINGS} times between "
                                 f"{self.start.isoformat()} and {self.end.isoformat()}: not a meeting calendar")
            return
        numbers = {_recurrence_key(event): n for n, event in events}
        for occurrence in sorted(occurrences, key=_day_of):
            day = _day_of(occurrence)
            if not self.start <= day <= self.end:
                continue
            number = numbers.get(_recurrence_key(occurrence), master)
            body = self._body(occurrence)
            summary = _summary(occurrence)
            if body is None:
                self.ignored.append(Ignored(number, summary, day, OTHER_BODY))
            elif str(occurrence.get("STATUS", "")).strip().upper() == "CANCELLED":
                self.ignored.append(Ignored(number, summary, day, CANCELLED))
            elif day in self.days[body.id]:
                self.ignored.append(Ignored(number, summary, day, SAME_DAY))
            else:
                self.days[body.id].add(day)

    def _body(self, event) -> BodyMatch | None:
        """The body whose match text occurs in the event's summary or categories; the longest wins."""
        texts = [_summary(event), *_categories(event)]
        found = [b for b, pattern in self.patterns if any(pattern.search(_normal(t)) for t in texts)]
        return max(found, key=lambda b: len(_normal(b.match_text)), default=None)

    def _known_zone(self, tzid: str) -> bool:
        if tzid in self.tzids:
            return True
        try:
            ZoneInfo(tzid)
        except (ValueError, OSError, KeyError):
            return False
        return True

    def _label(self, number: int, event) -> str:
        summary = _summary(event)
        return f"{self.name}: event {number}" + (f" {_quoted(summary)}" if summary else "")

    def _event_problems(self, number: int, event) -> list[str]:
        at = self._label(number, event)
        problems = []
        for prop, message in getattr(event, "errors", []):
            if prop not in _DATE_PROPERTIES:
                continue
            if prop is None:
                problems.append(f"{at}: a line cannot be read: {_words(message)}")
                continue
            value = event.get(prop)  # a broken property is kept as the text the file held
            value = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
            problems.append(f"{at}: {prop} {_raw(value)} is not valid: {_words(message)}")
        broken = {p for p, _ in getattr(event, "errors", [])}
        if "DTSTART" not in event:
            problems.append(f"{at}: no DTSTART")
        moments = {}
        for prop in ("DTSTART", "DTEND", "RECURRENCE-ID"):
            if prop in event and prop not in broken:
                moment, problem = _moment(event.get(prop), prop)
                if problem:
                    problems.append(f"{at}: {problem}")
                else:
                    moments[prop] = moment
        for prop in ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE"):
            values = event.get(prop) if prop in event and prop not in broken else []
            for value in values if isinstance(values, list) else [values]:
                tzid = getattr(value, "params", {}).get("TZID")
                if tzid and not self._known_zone(str(tzid)):
                    problems.append(f"{at}: {prop} names the time zone {shown(str(tzid))}, which the file does not define "
                                    "(VTIMEZONE) and is no known zone: its times cannot be read")
                    break
        start, stop = moments.get("DTSTART"), moments.get("DTEND")
        if start is not None and stop is not None and _comparable(start, stop) and stop < start:
            problems.append(f"{at}: DTEND ({_iso(stop)}) is before DTSTART ({_iso(start)})")
        if "RRULE" in event and "RRULE" not in broken:
            for rule in event.get("RRULE") if isinstance(event.get("RRULE"), list) else [event.get("RRULE")]:
                problem = _rule_problem(rule)
                if problem:
                    problems.append(f"{at}: RRULE {_raw(rule.to_ical().decode('utf-8', 'replace'))} is not valid: {problem}")
        return problems


def _moment(value, prop: str) -> tuple[dt.date | None, str | None]:
    """A date or a date and time, or what is wrong with the property."""
    if isinstance(value, list):
        return None, f"{prop} is given {len(value)} times"
    moment = getattr(value, "dt", None)
    if not isinstance(moment, dt.date):  # a time alone, a duration, a period
        text = value.to_ical() if hasattr(value, "to_ical") else value
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return None, f"{prop} {_raw(text)} is not a date or a date and time"
    return moment, None


def _rule_problem(rule) -> str | None:
    """What the parser lets through but the expander would choke or hang on."""
    frequencies = [str(f).upper() for f in rule.get("FREQ", [])]
    if not frequencies:
        return "no FREQ"
    if frequencies[0] not in _FREQUENCIES:
        return f"FREQ={frequencies[0]}: a body meets at most once a day (DAILY, WEEKLY, MONTHLY or YEARLY)"
    for key in ("INTERVAL", "COUNT"):
        for value in rule.get(key, []):
            if not isinstance(value, int) or value < 1:
                return f"{key}={value}: must be a whole number from 1"
    # Checked before anything is expanded: every hour, minute or second of a day is up to
    # 86,400 occurrences a day, which the expander would list in full.
    for key in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        values = rule.get(key, [])
        if len(values) > 1:
            return f"{key} with {len(values)} values: more than one meeting a day; a body meets at most once a day"
    return None


def _expand(calendar, events: list, start: dt.date, end: dt.date, limit: int = MAX_MEETINGS) -> list:
    """The occurrences of one series around the range (a day wider each side: the days are
    taken in Stockholm, the expander's bounds are not); at most `limit` + 1 of them."""
    import icalendar
    import recurring_ical_events

    one = icalendar.Calendar()
    for key in ("VERSION", "PRODID", "CALSCALE", "X-WR-TIMEZONE"):
        if key in calendar:
            one.add(key, calendar[key])
    for timezone in calendar.walk("VTIMEZONE"):
        one.add_component(timezone)
    for event in events:
        one.add_component(event)
    # Lazily, in order, and no further than one past the bound: a series that recurs more
    # often than any council meets is refused without being listed in full.
    found = []
    last = end + dt.timedelta(days=2)
    for occurrence in recurring_ical_events.of(one).after(start - dt.timedelta(days=1)):
        if _day_of(occurrence) > last or len(found) > limit:
            break
        found.append(occurrence)
    return found


def _day_of(occurrence) -> dt.date:
    """The meeting's day in Stockholm: a time with a zone converted, a floating time as it
    stands, an all-day event's first day."""
    start = occurrence.decoded("DTSTART")
    if isinstance(start, dt.datetime):
        return (start.astimezone(STOCKHOLM) if start.tzinfo is not None else start).date()
    return start


def _recurrence_key(event) -> str:
    value = event.get("RECURRENCE-ID")
    if value is None:
        value = event.get("DTSTART")
    try:
        moment = value.dt
    except Exception:
        return ""
    return moment.isoformat() if isinstance(moment, (dt.date, dt.datetime)) else ""


def _validated(name: str, party: str, example: bool, source: str, bodies: list[BodyMatch],
               days: dict[str, set[dt.date]]) -> MeetingCalendar:
    from pydantic import ValidationError

    from samverkan.process_definitions.model import MeetingCalendar

    try:
        return MeetingCalendar.model_validate({
            "party": party,
            "example": example,
            "source": source,
            "bodies": [{"id": b.id, "name": b.name, "agenda_closes": b.agenda_closes.strip(), "meetings": sorted(days[b.id])}
                       for b in bodies],
        })
    except ValidationError as error:
        raise SamverkanError(*(f"{name}: {'.'.join(str(p) for p in e['loc'])}: {_words(e['msg'])}" for e in error.errors())) from None


def _pattern(text: str) -> re.Pattern:
    """The text as whole words: not preceded or followed by a letter or digit."""
    return re.compile(r"(?<!\w)" + re.escape(_normal(text)) + r"(?!\w)")


def _normal(text: str) -> str:
    """Compared as composed Unicode (an exported Å may be A and a ring), in any case, with
    runs of spaces as one."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _summary(event) -> str:
    return " ".join(str(event.get("SUMMARY", "")).split())


def _categories(event) -> list[str]:
    value = event.get("CATEGORIES")
    if value is None:
        return []
    found: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        cats = getattr(item, "cats", None)
        found += [str(c) for c in cats] if cats is not None else [str(item)]
    return found


def _comparable(a, b) -> bool:
    if isinstance(a, dt.datetime) != isinstance(b, dt.datetime):
        return False
    if isinstance(a, dt.datetime):
        return (a.tzinfo is None) == (b.tzinfo is None)
    return True


def _iso(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _quoted(text: str) -> str:
    """An event's summary in a message, in double quotes: event 3 "Kommunfullmäktige"."""
    quoted = shown(text, 60)
    inner = quoted[1:-1]
    if quoted[0] == "'":  # shown() chose single quotes: un-escape them, escape double ones
        inner = inner.replace("\\'", "'").replace('"', '\\"')
    return f'"{inner}"'


def _raw(value: str) -> str:
    return shown(value, 60)


def _words(error: object) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def with_calendar(definition, calendar: MeetingCalendar, shown_as: str = "<calendar>"):
    """The definition with `calendar` in place of its party's calendar (added last if it had
    none), checked as a loaded file would be: SamverkanError, one line per problem, if it does
    not fit (a deciding body other than the party's decision_body, an unknown party)."""
    from pydantic import ValidationError

    from samverkan.process_definitions.checks import check_definition
    from samverkan.process_definitions.model import Definition
    from samverkan.process_definitions.paths import Locator

    data = definition.model_dump(by_alias=True)
    calendars = data["meetings"]["calendars"]
    entry = calendar.model_dump(by_alias=True)
    index = next((i for i, c in enumerate(calendars) if c["party"] == calendar.party), len(calendars))
    calendars[index:index + 1] = [entry]
    try:
        replaced = Definition.model_validate(data)
    except ValidationError as error:
        raise SamverkanError(*(f"{shown_as}: {'.'.join(str(p) for p in e['loc'])}: {_words(e['msg'])}" for e in error.errors())) from None
    locator = Locator(shown_as)
    locator.label(("meetings", "calendars", index), calendar.party)
    problems = check_definition(replaced, locator)
    if problems:
        raise SamverkanError(*problems)
    return replaced


def calendar_yaml(calendar: MeetingCalendar, indent: int = 4) -> str:
    """The calendar as a `- party: …` item of `meetings.calendars`, laid out as the shipped
    definition lays its calendars out (indented to paste under its `  calendars:`), one body a
    line, with å, ä and ö as they are."""
    pad = " " * indent
    lines = [f"{pad}- party: {_scalar(calendar.party)}"]
    if calendar.example:
        lines.append(f"{pad}  example: true")
    if calendar.source is not None:
        lines.append(f"{pad}  source: {_scalar(calendar.source)}")
    lines.append(f"{pad}  bodies:")
    for body in calendar.bodies:
        meetings = ", ".join(day.isoformat() for day in body.meetings)
        lines.append(f"{pad}    - {{id: {_scalar(body.id)}, name: {_scalar(body.name)}, "
                     f"agenda_closes: {_scalar(body.agenda_closes)}, meetings: [{meetings}]}}")
    return "\n".join(lines) + "\n"


def _scalar(text: str) -> str:
    """Plain when YAML reads it back as the same string inside a flow mapping, else quoted."""
    import json

    import yaml

    try:
        plain = yaml.safe_load("{k: " + text + "}") == {"k": text} and yaml.safe_load("k: " + text) == {"k": text}
    except yaml.YAMLError:
        plain = False
    return text if plain and text == text.strip() and "#" not in text else json.dumps(text, ensure_ascii=False)
