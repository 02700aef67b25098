"""What a notice is: its kind, whom it goes to, when, and the facts its text is made from.

A notice is identified by (instance, stage, party, kind, due date, recipient): the same
notice is queued once however often the sweep runs, and its Message-ID is derived from that
identity, so that a message repeated by a crash is recognisably the same message."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pendulum


class NoticeKind(StrEnum):
    ready = "ready"  # "ni kan nu …": a stage or branch can be started
    before = "before"  # some business days before the deadline
    on_day = "on-day"  # on the deadline
    overdue = "overdue"  # after the deadline, repeating
    escalation = "escalation"  # to the stage owner and the director's office
    confirmation = "confirmation"  # a branch's decision is recorded
    digest = "digest"  # the weekly digest to the director's office
    minutes = "minutes"  # to the party's secretary: register the minutes approved, or their announcement


# Where a message says how to act on a branch, the one-time code and the link to the branch's
# form are put in when it is sent, never when it is queued: the outbox keeps its bytes, and a
# code is stored only as a hash (samverkan.codes). Each mark is one word, so wrapping keeps it.
CODE_MARK = "%%ENGANGSKOD%%"
FORM_MARK = "%%FORMULAR%%"
# The digest links each party it names to the page of the party's branch run: a mark per branch,
# filled as it is sent, since the run is Prefect's and known only then.
LINK_MARK = "%%LANK:"


def link_mark(stage: str, party: str) -> str:
    return f"{LINK_MARK}{stage}:{party}%%"


def link_marks(text: str) -> list[tuple[str, str]]:
    """(stage, party) of every link mark in `text`."""
    return re.findall(r"%%LANK:([a-z0-9-]+):([a-z0-9-]+)%%", text)
@dataclass(frozen=True)
class Credentials:
    """What a message that says how to act gets as it is sent."""

    code: str | None  # None: the recipient holds no role that may decide the branch
    form_url: str | None  # None: the branch's form is not known where this is sent from
    links: tuple[tuple[str, str | None], ...] = ()  # (link mark, its page or None) for a digest


# The kinds that ask a party to act on its branch: they carry a code for its form.
ACTION_KINDS = frozenset({"ready", "before", "on-day", "overdue"})

# The kinds that are about an open node's deadline: pointless once the node is finished.
DEADLINE_KINDS = frozenset({NoticeKind.ready, NoticeKind.before, NoticeKind.on_day, NoticeKind.overdue, NoticeKind.escalation})


class OutboxState(StrEnum):
    queued = "queued"  # waiting for its send time, or for a retry
    sending = "sending"  # claimed by a sweep that is delivering it now (a lease)
    sent = "sent"
    failed = "failed"  # permanently: the reason says why; never retried by itself
    cancelled = "cancelled"  # became pointless before it was sent (the branch finished)


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str | None = None


@dataclass(frozen=True)
class Notice:
    """One message to one recipient. `facts` is JSON-serialisable (strings, numbers, lists,
    dicts; dates as ISO strings): it is stored in the outbox, and the message made from it
    is kept there too, so a retry sends the same bytes."""

    instance_id: str
    kind: NoticeKind
    sequence: int  # which one of its kind for this node and deadline: 1, 2, …
    stage: str  # "" for the digest
    party: str  # "" for a stage without branches and for the digest
    due_date: pendulum.Date  # the deadline it is about; a confirmation: the decision day; the digest: its Monday
    send_at: pendulum.DateTime  # not before this (a weekday at the policy's local time)
    recipient: Recipient | None  # None: the definition names no address for it (fails, with the reason)
    facts: dict[str, Any] = field(default_factory=dict)
    language: str = "sv"
    missing_reason: str | None = None  # why there is no recipient

    @property
    def kind_label(self) -> str:
        """The kind with its sequence where a node has several: before-1, overdue-3."""
        return f"{self.kind.value}-{self.sequence}" if self.kind in (NoticeKind.before, NoticeKind.overdue) else self.kind.value

    @property
    def key(self) -> str:
        return notice_key(self.instance_id, self.stage, self.party, self.kind_label, self.due_date,
                          self.recipient.email if self.recipient else "")


def notice_key(instance_id: str, stage: str, party: str, kind_label: str, due_date: dt.date, recipient: str) -> str:
    return "/".join((instance_id, stage or "-", party or "-", kind_label, due_date.isoformat(), recipient.lower() or "-"))


def message_id(key: str, domain: str) -> str:
    """A Message-ID derived from the notice's identity: a repeat carries the same one."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<samverkan.{digest}@{domain}>"


# The facts a notice's text is made from. Names are the definition's own (with å, ä, ö);
# dates are ISO strings; the templates format them for the reader's language.
#
# A node notice (every kind but the digest) has:
#   process_name, instance_id, marks (list of str: EXEMPEL / SIMULERAD banners, first in the text),
#   stage_id, stage_name, stage_description (str|None), party_id (str|None), party_name (str|None),
#   state_name (its state now, Swedish), actions (list of str: what can be done now, the
#   lifecycle's transition names), deadline (ISO date: for a countdown to a branch decided at meetings, the day its next step is due), deadline_fixed (bool: truly fixed),
#   deadline_reason (str|None: why the deadline is not the nominal one), hard_limit (ISO date|None:
#   the last day that still keeps the process's hard deadline, when it differs from deadline),
#   days_left (int: calendar days from the send day to the deadline, negative when late),
#   decision_body (str|None), ask_name, ask_email (whom to ask: the stage owner's responsible
#   contact), overview (one line: where the whole process stands), recipient_role (str, Swedish),
#   escalated_to (list of str, escalation only: who else receives it),
#   record (list of [field name, value], confirmation only), outcome (str|None, confirmation:
#   the state reached), outcome_failed (bool, confirmation: a "no"), meetings (list of str: what
#   a branch decided at meetings must reach, and when), awaiting_registration ({body, meeting,
#   minutes_by}|None: the meeting that could have decided the branch has passed with nothing
#   recorded and its minutes are not yet due: ask the party to register the decision),
#   decided (str|None,
#   confirmation: what was decided, document by document, with date and §), next_step (str|None,
#   confirmation: what happens now, for a split decision or amendments and their answer),
#   warnings (list of str, confirmation: the decision's open warnings).
#   A minutes notice (register the approval of the minutes, or its announcement: kommunallagen
#   8 kap. 12 §) also has: minutes_missing ("approval" or "announcement"), decision_date,
#   paragraph (str|None), approve_by, approve_by_reason, minutes_approved (ISO date|None),
#   announce_by, announce_by_reason (ISO date / Swedish text, None until approved), law, and how
#   to register it: register_state (the state to give, --to), register_fields (list of field ids),
#   register_command (the command line), register_json (the transition form's fields),
#   registrar_name, registrar_email (the stage owner's registrar, who may register it instead).
#   An escalation of several branches of one stage (one message per day) also has: parties,
#   party_ids (lists), party_deadlines (list of [party name, ISO date]: each branch's own);
#   its deadline is the earliest of them and its meetings name each branch's party.
# The digest has:
#   process_name, instance_id, marks, week (int), week_start (ISO date), overview (str),
#   cannot, at_risk, awaiting_registration, outside (lists of str: the forecast's causes, one
#   sentence each; cannot and awaiting_registration may be missing from a digest queued before
#   they existed),
#   progress (list of str, one line per stage in progress), late (list of {stage_name, party_name,
#   deadline, days_late, owner_name}), rejected (list of {stage_name, party_name, state_name,
#   reason, blocks}), blocked (list of {stage_name, party_name, waiting_on}), failed_notices (list of
#   {recipient, kind, stage_name, party_name, reason}), next_deadlines (list of {stage_name,
#   party_name, deadline, days_left}).
