"""A notice as an e-mail message: subject, plain text and HTML from the language's templates,
and the deadline as a calendar file for the kinds that are about one.

The message is built, not sent: the outbox hands it to the mailer. Every problem is a
RenderError with one line that names the notice by its key; nothing else escapes."""

from __future__ import annotations

import datetime as dt
import email.policy
import functools
import pathlib
import re
from collections.abc import Callable
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, NoReturn

import jinja2
import pendulum

from samverkan.errors import SamverkanError
from samverkan.notices.model import CODE_MARK, DEADLINE_KINDS, FORM_MARK, Notice, NoticeKind, Recipient, message_id, notice_key
from samverkan.notifications import dates, ics
from samverkan.process_definitions.model import check_email
from samverkan.text import in_sentence, shown

TEMPLATES = pathlib.Path(__file__).parent / "templates"
WIDTH = 72  # plain text is readable at 72 columns

Fail = Callable[[str], NoReturn]  # raises the notice's RenderError with one problem

# What must never reach a header: CR and LF would start a new header (injection), other control
# characters and line or bidirectional-override marks garble or disguise what is shown.
_UNSAFE_IN_HEADER = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LANGUAGE = re.compile(r"[a-z]{2}")


class _HeaderClasses(HeaderRegistry):
    """The standard header classes, made once per header name: the stock registry builds a new
    class for every header it parses, which was most of the time spent on a message."""

    @functools.cache
    def __getitem__(self, name: str) -> type:
        return super().__getitem__(name)


POLICY = email.policy.SMTP.clone(header_factory=_HeaderClasses())


class RenderError(SamverkanError):
    """A notice that cannot be made into a message: one line naming its key and the problem."""


def render(notice: Notice, sender: Recipient, now: pendulum.DateTime,
           templates: pathlib.Path | None = None) -> EmailMessage:
    """The message for `notice` from `sender`, dated `now`. Raises RenderError."""
    fail = functools.partial(_fail, notice)
    if not isinstance(notice.kind, NoticeKind):
        fail(f"unknown kind {shown(notice.kind)}")
    if notice.recipient is None:
        fail(f"no recipient: {notice.missing_reason or 'the definition names no address for it'}")
    if now.tzinfo is None:
        fail("the send time has no time zone")
    to_address = _address(fail, "recipient", notice.recipient)
    from_address = _address(fail, "sender", sender)
    domain = from_address.domain
    environment = _environment(fail, (templates or TEMPLATES).resolve(), notice.language)

    context = _neutral(dict(notice.facts))
    context["lang"] = notice.language
    subject, headline, calendar_texts = _subject(fail, environment, notice, context)
    context["subject"] = subject
    context["headline"] = headline
    text = _render(fail, environment, f"text/{notice.kind.value}.txt", context)
    html = _render(fail, environment, f"html/{notice.kind.value}.html", context)

    message = EmailMessage(policy=POLICY)
    try:
        message["From"] = from_address
        message["To"] = to_address
        message["Subject"] = subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = message_id(notice.key, domain)
        message["Auto-Submitted"] = "auto-generated"
        message["X-Samverkan-Notice"] = _header_value(fail, "notice kind", notice.kind_label)
        message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
        message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
        message.make_mixed()  # moves the Content-* headers above into the alternative part
        message["Content-Language"] = notice.language
        if notice.kind in DEADLINE_KINDS:
            deadline = _deadline(fail, context)
            calendar = ics.deadline_event(
                uid=ics.event_uid(_deadline_identity(notice), domain), deadline=deadline, now=now,
                summary=calendar_texts["summary"], description=calendar_texts["description"],
                alarm=calendar_texts["alarm"])
            message.add_attachment(calendar, maintype="text", subtype="calendar", cte="base64",
                                   filename=f"frist-{deadline.isoformat()}.ics",
                                   params={"method": "PUBLISH", "charset": "utf-8"})
    except (ValueError, TypeError, UnicodeError) as error:  # the email and icalendar libraries' refusals
        fail(f"cannot build the message: {error}")
    return message


def _fail(notice: Notice, problem: str) -> NoReturn:
    raise RenderError(f"notice {shown(_key(notice), 300)}: {problem}") from None


def _key(notice: Notice) -> str:
    try:
        return notice.key
    except Exception:  # a notice too broken to have a key still gets a name
        return f"{notice.instance_id}/{notice.stage or '-'}/{notice.party or '-'}/{notice.kind}"


def _header_value(fail: Fail, what: str, value: str) -> str:
    if not isinstance(value, str):
        fail(f"{what} is not text: {shown(value)}")
    bad = _UNSAFE_IN_HEADER.search(value)
    if bad is not None:
        fail(f"{what} {shown(value, 120)} contains a control character ({bad.group()!r}) and would "
             "reach a message header; refused")
    return value


# A fact is text from the definition and the record: a name with a stray control character
# (a definition that `validate` would now refuse, a record from before) must not silence a
# message meant for others, such as the escalation that names every late party. So facts are
# made inert instead: in the body only line breaks and tabs stay; in a header nothing does.
_NOT_IN_BODY = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _neutral(value: Any) -> Any:
    if isinstance(value, str):
        return _NOT_IN_BODY.sub(" ", value.replace("\r\n", "\n"))
    if isinstance(value, dict):
        return {key: _neutral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_neutral(item) for item in value]
    return value


def _one_line(text: str) -> str:
    """Text for a header: no character that could end it (header injection) or disguise it."""
    return " ".join(_UNSAFE_IN_HEADER.sub(" ", text).split())


def _address(fail: Fail, what: str, person: Recipient) -> Address:
    email_text = _header_value(fail, f"{what} address", person.email)
    try:
        normalized = check_email(email_text)
    except ValueError:
        fail(f"{what} address {shown(email_text, 120)} is malformed")
    name = _one_line(person.name or "") if what == "recipient" else _header_value(fail, f"{what} name", person.name or "")
    local, _, domain = normalized.rpartition("@")
    try:
        return Address(display_name=name, username=local, domain=domain)
    except (ValueError, TypeError) as error:
        fail(f"{what} address {shown(email_text, 120)}: {error}")


def _subject(fail: Fail, environment: jinja2.Environment, notice: Notice,
             context: dict[str, Any]) -> tuple[str, str, dict[str, str]]:
    """The subject, the headline it repeats (without the [EXEMPEL] prefix), and the calendar
    texts, all from the language's subjects.txt."""
    name = "text/subjects.txt"
    try:
        module = environment.get_template(name).make_module(context)
        headline = str(getattr(module, notice.kind.value.replace("-", "_"))())
        prefix = str(module.example_prefix()) if context.get("marks") else ""
        calendar = {}
        if notice.kind in DEADLINE_KINDS:
            calendar = {"summary": str(module.ics_summary()).strip(),
                        "description": str(module.ics_description()).strip(),
                        "alarm": str(module.ics_alarm()).strip()}
    except _TEMPLATE_ERRORS as error:
        fail(_template_problem(notice.language, name, error))
    return _one_line(prefix + headline), headline, calendar


def _render(fail: Fail, environment: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return environment.get_template(name).render(context)
    except _TEMPLATE_ERRORS as error:
        fail(_template_problem(context["lang"], name, error))


# A template's own errors, and those of a filter given a fact it cannot read (a date that is not one).
_TEMPLATE_ERRORS = (jinja2.TemplateError, ValueError, TypeError, KeyError, AttributeError)


def _template_problem(language: str, name: str, error: Exception) -> str:
    def file(template: str | None) -> str:  # as it is in the folder: sv/before.html
        return f"{language}/{(template or name).removeprefix('text/').removeprefix('html/')}"

    if isinstance(error, jinja2.TemplateNotFound):
        return f"no template {file(error.name)}"
    if isinstance(error, jinja2.UndefinedError):
        return f"template {file(name)}: a fact is missing ({error.message})"
    if isinstance(error, jinja2.TemplateSyntaxError):
        return f"template {file(error.name)} line {error.lineno}: {error.message}"
    if isinstance(error, jinja2.TemplateError):
        return f"template {file(name)}: {error.message or type(error).__name__}"
    return f"template {file(name)}: {type(error).__name__}: {error}"


def _deadline(fail: Fail, context: dict[str, Any]) -> dt.date:
    try:
        return dates.as_date(context["deadline"])
    except KeyError:
        fail("a fact is missing ('deadline' is undefined)")
    except (ValueError, TypeError) as error:
        fail(f"deadline {shown(context['deadline'])} is not a date: {error}")


def _deadline_identity(notice: Notice) -> str:
    """The notice's key without its kind: every reminder about one deadline names one event."""
    return notice_key(notice.instance_id, notice.stage, notice.party, "deadline", notice.due_date,
                      notice.recipient.email if notice.recipient else "")


def fill(text: object, indent: str = "", hanging: str | None = None) -> str:
    """A paragraph wrapped at 72 columns at spaces; `hanging` indents the lines after the first.
    A word longer than a line (an address) stands alone on its line, unbroken. (What
    textwrap.fill does with break_long_words=False, at a fraction of its cost.)"""
    hanging = indent if hanging is None else hanging
    lines, line, prefix = [], "", indent
    for word in str(text).split():
        if line and len(prefix) + len(line) + 1 + len(word) > WIDTH:
            lines.append(prefix + line)
            line, prefix = word, hanging
        else:
            line = f"{line} {word}" if line else word
    if line or not lines:
        lines.append(prefix + line)
    return "\n".join(lines)


def _environment(fail: Fail, folder: pathlib.Path, language: str) -> jinja2.Environment:
    if not isinstance(language, str) or not _LANGUAGE.fullmatch(language) or not (folder / language).is_dir():
        fail(f"no templates for language {shown(language)} in {folder}")
    return _cached_environment(folder, language)


class _Views(jinja2.Environment):
    """The language's folder seen twice: as "text/…" (no escaping) and as "html/…" (everything
    escaped). A template names its parts without the view ("macros.txt") and gets them in its
    own: the shared wording (macros.txt, intros.txt) is compiled once per view, so a fact it
    prints is escaped in the HTML and left as it is in the plain text. (A macro compiled
    without escaping and called from HTML would print facts unescaped, yet marked safe.)"""

    def join_path(self, template: str, parent: str) -> str:
        return template if template.startswith(VIEWS) else f"{parent.split('/', 1)[0]}/{template}"


VIEWS = ("text/", "html/")
COMMON = "common"  # templates with no words of their own: layouts and the kinds that only pick an intro


class _ViewLoader(jinja2.BaseLoader):
    """"text/before.txt" and "html/before.txt" are both the folder's before.txt, compiled under
    their full names (jinja's PrefixLoader would compile both under the short one)."""

    def __init__(self, folder: pathlib.Path) -> None:
        # The language's own wording first; the layouts every language shares after it.
        self.files = jinja2.FileSystemLoader([folder, folder.parent / COMMON])

    def get_source(self, environment: jinja2.Environment, template: str):
        if not template.startswith(VIEWS):
            raise jinja2.TemplateNotFound(template)
        return self.files.get_source(environment, template.split("/", 1)[1])


@functools.lru_cache(maxsize=16)
def _cached_environment(folder: pathlib.Path, language: str) -> jinja2.Environment:
    """One environment per (templates folder, language): templates compile once."""
    environment = _Views(
        loader=_ViewLoader(folder / language),
        autoescape=lambda name: name is not None and name.startswith("html/"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    environment.filters.update(dates.filters(language))
    environment.filters["fill"] = fill
    environment.filters["in_sentence"] = in_sentence
    environment.filters["capitalize_first"] = lambda text: text[:1].upper() + text[1:]
    environment.globals.update(code_mark=CODE_MARK, form_mark=FORM_MARK)
    return environment
