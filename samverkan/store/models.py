"""The tables. A process instance is pinned to the exact definition text it started with;
its nodes (stages and branches) carry their state; transitions are the audit trail, for
the public record, including refused attempts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON}


class DefinitionRow(Base):
    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("process_id", "version", name="uq_definitions_process_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(63))
    version: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[dt.datetime]


class InstanceRow(Base):
    __tablename__ = "instances"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    started_at: Mapped[dt.datetime]  # when the process began in the world (may be back-dated)
    created_at: Mapped[dt.datetime]  # when it was entered here
    started_by: Mapped[str] = mapped_column(String(320))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer)
    # The process's diarienummer for this instance (migration 0009); None: the definition's, if any.
    registration_number: Mapped[str | None] = mapped_column(String(200))

    definition: Mapped[DefinitionRow] = relationship(lazy="joined")
    __mapper_args__ = {"version_id_col": revision}


class NodeRow(Base):
    __tablename__ = "nodes"
    __table_args__ = (UniqueConstraint("instance_id", "key", name="uq_nodes_instance_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(140))
    stage: Mapped[str] = mapped_column(String(63))
    party: Mapped[str | None] = mapped_column(String(63))
    state: Mapped[str] = mapped_column(String(63))
    ready_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    changed_at: Mapped[dt.datetime | None]
    record: Mapped[dict[str, Any]] = mapped_column(default=dict)
    revision: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": revision}


class TransitionRow(Base):
    """One line of the audit trail: a transition someone made, one the engine made because
    of it, or an attempt that was refused for want of permission."""

    __tablename__ = "transitions"
    __table_args__ = (UniqueConstraint("instance_id", "seq", name="uq_transitions_instance_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    node_key: Mapped[str] = mapped_column(String(140))
    stage: Mapped[str] = mapped_column(String(63))
    party: Mapped[str | None] = mapped_column(String(63))
    from_state: Mapped[str] = mapped_column(String(63))
    to_state: Mapped[str] = mapped_column(String(63))
    automatic: Mapped[bool] = mapped_column(Boolean)
    caused_by_seq: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(320))
    occurred_at: Mapped[dt.datetime]
    recorded_at: Mapped[dt.datetime]
    reason: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(500))
    record: Mapped[dict[str, Any] | None]
    outcome: Mapped[str] = mapped_column(String(16), default="applied")  # applied | refused
    refusal: Mapped[str | None] = mapped_column(Text)
    # A refused row counts the actor's attempts on the branch that day (migration 0007): the
    # record says who tried, on what and how often, without a row an attempt.
    attempts: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class RequestKeyRow(Base):
    """A request recorded under a key (a form's answer: its run and input), so that recording
    the same answer again finds this row instead of recording twice. `seq` is the audit row the
    request wrote; `outcome` says whether it was applied or refused for want of permission."""

    __tablename__ = "request_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(16))  # applied | refused
    recorded_at: Mapped[dt.datetime]


class ActorRow(Base):
    __tablename__ = "actors"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(320))

    grants: Mapped[list[GrantRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class GrantRow(Base):
    """A role an actor holds: the director's office (everything), a stage's project lead
    (that stage), or a party's contact (that party's branches)."""

    __tablename__ = "grants"
    __table_args__ = (UniqueConstraint("actor_id", "role", "stage", "party", name="uq_grants"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str | None] = mapped_column(String(63))
    party: Mapped[str | None] = mapped_column(String(63))


class TokenRow(Base):
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256: the token itself is never stored
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(320))
    revoked_at: Mapped[dt.datetime | None]


class CodeRow(Base):
    """A one-time code: the only credential a form takes. Bound to one decision (an instance's
    node, and for the transition deployment one run), held by one actor, stored as a hash.
    Spent by its first presentation, whatever the answer's fate, so a code read from Prefect
    is worth nothing; `spent_for` lets only that same answer (its run, input and content),
    retried after a crash, through again."""

    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_node", "instance_id", "stage", "party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(63))
    party: Mapped[str | None] = mapped_column(String(63))
    run_id: Mapped[str | None] = mapped_column(String(64))  # a transition run: "RUN-ID#REQUEST-FINGERPRINT"
    issued_at: Mapped[dt.datetime]
    issued_by: Mapped[str] = mapped_column(String(320))
    expires_at: Mapped[dt.datetime]
    spent_at: Mapped[dt.datetime | None]
    spent_how: Mapped[str | None] = mapped_column(String(16))  # used | elsewhere | withdrawn
    spent_for: Mapped[str | None] = mapped_column(String(64))  # sha256 of the answer that spent it


class SettingRow(Base):
    """The store's own settings; `clock` says whether its record is real ("live") or simulated."""

    __tablename__ = "store_settings"

    key: Mapped[str] = mapped_column(String(63), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class AuthorityEventRow(Base):
    """One change of who may do what: a token issued or revoked, a role granted or withdrawn,
    a recovery. Kept for the record, like the transitions."""

    __tablename__ = "authority_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime]
    by: Mapped[str] = mapped_column(String(320))  # who did it: an actor, "bootstrap", or "recovery by OS-USER@HOST"
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(320))  # whose authority changed
    detail: Mapped[str | None] = mapped_column(Text)


class NoticeRow(Base):
    """The outbox: every notice, written in the transaction that caused it, then delivered.
    Its identity (instance, stage, party, kind, due date, recipient) is unique: queueing the
    same notice again changes nothing, so nothing is sent twice."""

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("instance_id", "stage", "party", "kind", "due_date", "recipient", name="uq_notices_identity"),
        Index("ix_notices_state_send_at", "state", "send_at"),
        # An instance's rows in a state: what the sweep claims and renders per instance (migration 0005).
        Index("ix_notices_instance_state_send_at", "instance_id", "state", "send_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("instances.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(63))  # "" for the digest
    party: Mapped[str] = mapped_column(String(63))  # "" when not a branch
    kind: Mapped[str] = mapped_column(String(24))  # ready, before-1, on-day, overdue-2, escalation, confirmation, digest
    due_date: Mapped[dt.date] = mapped_column(Date)
    recipient: Mapped[str] = mapped_column(String(320))  # "" when the definition names none (then failed)
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    send_at: Mapped[dt.datetime]
    facts: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16))  # queued | sending | sent | failed | cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None]
    claimed_until: Mapped[dt.datetime | None]  # a sending sweep's lease, in real time
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[dt.datetime]
    queued_by: Mapped[str] = mapped_column(String(64))  # "sweep" or "transition #seq"
    sent_at: Mapped[dt.datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[bytes | None] = mapped_column(LargeBinary)  # as sent: rendered once, resent the same
