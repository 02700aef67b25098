"""The one-time code and the form's address, put into a message as it is sent.

The outbox keeps a message's bytes so that a retry sends the same message; a code must not be
kept anywhere but as a hash (samverkan.codes). So a message that says how to act carries two
marks (CODE_MARK, FORM_MARK) until it is sent, and each send puts in a code issued for that
send and the address of the branch's waiting form, in the plain text and the HTML alike."""

from __future__ import annotations

import email.parser
import html
import re
from samverkan.notices.model import CODE_MARK, FORM_MARK, LINK_MARK, Credentials

from .render import POLICY

# What stands in for a code or an address that cannot be given, in the notice's language.
_NO_CODE = {"sv": "(ingen: ni har ingen roll för det här beslutet i Samverkan; be projektledaren om en)",
            "en": "(none: you hold no role for this decision in Samverkan; ask the project lead for one)"}
_NO_LINK = {"sv": "(sidan kunde inte hittas; se översikten)", "en": "(the page could not be found; see the dashboard)"}
_NO_FORM = {"sv": "(be projektledaren om adressen)", "en": "(ask the project lead for its address)"}


def has_marks(message: bytes) -> bool:
    return any(mark.encode("ascii") in message for mark in (CODE_MARK, FORM_MARK, LINK_MARK))


def fill(message: bytes, credentials: Credentials, language: str) -> bytes:
    """`message` with its marks replaced; unchanged if it has none."""
    if not has_marks(message):
        return message
    parsed = email.parser.BytesParser(policy=POLICY).parsebytes(message)
    for part in parsed.walk():
        if part.get_content_maintype() != "text" or part.get_content_subtype() not in ("plain", "html") \
                or part.get_content_disposition() == "attachment":
            continue
        text = part.get_content()
        if CODE_MARK not in text and FORM_MARK not in text and LINK_MARK not in text:
            continue
        as_html = part.get_content_subtype() == "html"
        part.set_content(_filled(text, credentials, language, as_html), subtype=part.get_content_subtype(),
                         charset="utf-8", cte="quoted-printable")
    return parsed.as_bytes(policy=POLICY)


def _filled(text: str, credentials: Credentials, language: str, as_html: bool) -> str:
    code = credentials.code or _NO_CODE.get(language, _NO_CODE["sv"])
    url = credentials.form_url
    if url is None:
        form = _NO_FORM.get(language, _NO_FORM["sv"])
    elif as_html:
        form = f'<a href="{html.escape(url)}">{html.escape(url)}</a>'
    else:
        form = f"<{url}>"  # angle brackets: where the address ends, for every mail reader
    text = text.replace(CODE_MARK, html.escape(code) if as_html else code).replace(FORM_MARK, form)
    for mark, page in credentials.links:
        text = text.replace(mark, _link(page, language, as_html))
    return _LEFT_LINKS.sub(_link(None, language, as_html), text)  # a mark whose page nobody looked up


_LEFT_LINKS = re.compile(re.escape(LINK_MARK) + r"[a-z0-9-]+:[a-z0-9-]+%%")


def _link(url: str | None, language: str, as_html: bool) -> str:
    if url is None:
        return _NO_LINK.get(language, _NO_LINK["sv"])
    return f'<a href="{html.escape(url)}">{html.escape(url)}</a>' if as_html else f"<{url}>"
