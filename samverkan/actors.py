"""Actors, their roles and personal tokens: granted and issued by the director's office,
tokens stored only as a hash, every change written to the authority log.

An actor's roles are its grants, and a token carries whatever its actor holds at the moment
it is used: withdrawing a role takes it from every token at once, and a token issued after
`revoke_actor` carries only what is granted from then on. The very first token, on an empty
database, can only be for the director's office, and needs no token to issue: someone has
to be first. The last director's office with a valid token cannot be removed; a lost token
is recovered by `recover`, run by someone with the database's credentials, and logged."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pendulum
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from samverkan.process_definitions.model import Definition, Email
from samverkan.auth import Actor, Grant, GrantRole, new_token, token_hash
from samverkan.clock import Clock
from samverkan.errors import SamverkanError
from samverkan.i18n import _, n_
from samverkan.store.clock_mode import write_time
from samverkan.store.database import Database
from samverkan.store.models import ActorRow, AuthorityEventRow, DefinitionRow, GrantRow, TokenRow
from samverkan.text import shown

_EMAIL = TypeAdapter(Email)


def normalize_email(email: str, what: str = "--actor") -> str:
    try:
        return _EMAIL.validate_python(email.strip())
    except ValidationError:
        raise SamverkanError(_("{what}: {value} är ingen giltig e-postadress", what=what, value=shown(email, 80))) from None


def authenticate(db: Database, email: str, token: str | None) -> Actor:
    email = normalize_email(email)
    if not token:
        raise SamverkanError(_("--token: {email} måste ange sin personliga kod (--token eller SAMVERKAN_TOKEN)", email=email))
    with db.read() as session:
        row = session.scalars(select(TokenRow).where(TokenRow.token_hash == token_hash(token), TokenRow.revoked_at.is_(None))).first()
        actor = session.get(ActorRow, row.actor_id) if row else None
        if actor is None or actor.email != email:
            raise SamverkanError(_("--token: ingen giltig personlig kod för {email} (felskriven, spärrad eller någon annans)",
                                   email=email))
        return actor_of(actor)


def actor_of(row: ActorRow) -> Actor:
    return Actor(row.email, tuple(_grant(g) for g in row.grants))


def any_actor(db: Database) -> bool:
    with db.read() as session:
        return (session.scalar(select(func.count()).select_from(ActorRow)) or 0) > 0


def issue_token(db: Database, email: str, grant: Grant | None, issuer: Actor | None, clock: Clock,
                name: str | None = None, known: list[Definition] | None = None) -> str:
    """A new token for `email`, after granting `grant` (if given). Printed once, kept as a hash."""
    email = normalize_email(email, "EMAIL")
    token = new_token()
    with db.transaction() as session:
        _lock_actors(session)
        now = write_time(session, clock)
        first = (session.scalar(select(func.count()).select_from(ActorRow)) or 0) == 0
        if first and (grant is None or grant.role is not GrantRole.director_office):
            raise SamverkanError(_("den första personliga koden måste vara för utvecklingsdirektörens kansli: --role director-office"))
        by = _issuer(issuer, first)
        actor = _find(session, email)
        if grant is not None:
            _check_targets(session, grant, known)
            actor = actor or _create(session, email, name, by, now)
            _add_grant(session, actor, grant, by, now)
        elif actor is None or not actor.grants:
            raise SamverkanError(_("--role: {email} har ingen roll; ge en med --role (en kod utan roll kan inte göra något)",
                                   email=email))
        session.add(TokenRow(actor_id=actor.id, token_hash=token_hash(token), created_at=now, created_by=by))
        _log(session, now, by, "issue-token", email, ", ".join(_grant(g).describe() for g in actor.grants))
    return token


def grant_role(db: Database, email: str, grant: Grant, issuer: Actor, clock: Clock, name: str | None = None,
               known: list[Definition] | None = None) -> bool:
    """Grant a role (creating the actor if new); False if it was held already."""
    email = normalize_email(email, "EMAIL")
    with db.transaction() as session:
        _lock_actors(session)
        now = write_time(session, clock)
        by = _issuer(issuer, first=False)
        _check_targets(session, grant, known)
        actor = _find(session, email) or _create(session, email, name, by, now)
        return _add_grant(session, actor, grant, by, now)


def withdraw_role(db: Database, email: str, grant: Grant, issuer: Actor, clock: Clock) -> None:
    """Withdraw one role; every token of the actor loses it at once."""
    email = normalize_email(email, "EMAIL")
    with _changing(db, email, issuer, clock) as (session, now, by, actor):
        row = next((g for g in actor.grants if _grant(g) == grant), None)
        if row is None:
            held = ", ".join(_grant(g).describe() for g in actor.grants) or _("ingen roll")
            raise SamverkanError(_("{email} är inte {role}; rollerna är: {held}", email=email, role=grant.describe(),
                                   held=held))
        actor.grants.remove(row)
        session.flush()
        _keep_a_directors_office(session, email)
        _log(session, now, by, "withdraw", email, grant.describe())


def revoke_actor(db: Database, email: str, issuer: Actor, clock: Clock, keep_roles: bool = False) -> tuple[int, int]:
    """Revoke every token of an actor and, unless `keep_roles`, withdraw every role, so that a
    token issued later carries only what is granted then. Returns (tokens, roles) removed."""
    email = normalize_email(email, "EMAIL")
    with _changing(db, email, issuer, clock) as (session, now, by, actor):
        tokens = list(session.scalars(select(TokenRow).where(TokenRow.actor_id == actor.id, TokenRow.revoked_at.is_(None))))
        for row in tokens:
            row.revoked_at = now
        withdrawn = [] if keep_roles else list(actor.grants)
        for row in withdrawn:
            actor.grants.remove(row)
        session.flush()
        _keep_a_directors_office(session, email)
        detail = n_("{n} personlig kod", "{n} personliga koder", len(tokens)) + ("" if keep_roles else _(
            "; roller borttagna: {roles}", roles=", ".join(_grant(g).describe() for g in withdrawn) or _("inga")))
        _log(session, now, by, "revoke", email, detail)
        return len(tokens), len(withdrawn)


def recover(db: Database, email: str, clock: Clock, by: str, name: str | None = None) -> str:
    """A director's-office token for `email` without any token: the way back in when the
    office's tokens are lost. Only whoever holds the database's credentials can run it (and
    could change the tables directly anyway); it is logged with the operating-system user."""
    email = normalize_email(email, "EMAIL")
    token = new_token()
    with db.transaction() as session:
        _lock_actors(session)
        now = write_time(session, clock)
        actor = _find(session, email) or _create(session, email, name, by, now)
        _add_grant(session, actor, Grant(GrantRole.director_office), by, now)
        session.add(TokenRow(actor_id=actor.id, token_hash=token_hash(token), created_at=now, created_by=by))
        _log(session, now, by, "recover", email, _("utvecklingsdirektörens kansli; ny personlig kod"))
    return token


@dataclass(frozen=True)
class ActorView:
    email: str
    name: str | None
    grants: tuple[Grant, ...]
    valid_tokens: int
    last_issued: pendulum.DateTime | None


@dataclass(frozen=True)
class AuthorityEvent:
    at: pendulum.DateTime
    by: str
    action: str
    subject: str
    detail: str | None


def overview(db: Database) -> list[ActorView]:
    with db.read() as session:
        views = []
        for actor in session.scalars(select(ActorRow).order_by(ActorRow.email)):
            tokens = list(session.scalars(select(TokenRow).where(TokenRow.actor_id == actor.id)))
            views.append(ActorView(actor.email, actor.name, tuple(_grant(g) for g in actor.grants),
                                   sum(t.revoked_at is None for t in tokens), max((t.created_at for t in tokens), default=None)))
        return views


def authority_log(db: Database) -> list[AuthorityEvent]:
    with db.read() as session:
        return [AuthorityEvent(r.at, r.by, r.action, r.subject, r.detail)
                for r in session.scalars(select(AuthorityEventRow).order_by(AuthorityEventRow.id))]


@contextmanager
def _changing(db: Database, email: str, issuer: Actor, clock: Clock) -> Iterator[tuple[Session, pendulum.DateTime, str, ActorRow]]:
    """One change to an existing actor's authority, by the director's office, in one transaction."""
    with db.transaction() as session:
        _lock_actors(session)
        now = write_time(session, clock)
        by = _issuer(issuer, first=False)
        yield session, now, by, _existing(session, email)


def _lock_actors(session: Session) -> None:
    if session.bind.dialect.name == "postgresql":
        # Two first tokens at once would each see no actors and both become the director's
        # office; two removals at once could each leave the other as the last director. This
        # lock queues them (SQLite: BEGIN IMMEDIATE already does).
        session.execute(text("LOCK TABLE actors IN EXCLUSIVE MODE"))


def _issuer(issuer: Actor | None, first: bool) -> str:
    if first:
        return "bootstrap"
    if issuer is None or not issuer.is_director_office:
        raise SamverkanError(_("bara utvecklingsdirektörens kansli ger personliga koder och ger eller tar bort roller: "
                               "ange --actor och --token för någon där"))
    return issuer.email


def _find(session: Session, email: str) -> ActorRow | None:
    return session.scalars(select(ActorRow).where(ActorRow.email == email)).first()


def _existing(session: Session, email: str) -> ActorRow:
    actor = _find(session, email)
    if actor is None:
        raise SamverkanError(_("EMAIL: ingen aktör {email}; se `samverkan actors`", email=email))
    return actor


def _create(session: Session, email: str, name: str | None, by: str, now: pendulum.DateTime) -> ActorRow:
    actor = ActorRow(email=email, name=name, created_at=now, created_by=by)
    session.add(actor)
    session.flush()
    return actor


def _add_grant(session: Session, actor: ActorRow, grant: Grant, by: str, now: pendulum.DateTime) -> bool:
    if any(_grant(g) == grant for g in actor.grants):
        return False
    actor.grants.append(GrantRow(role=grant.role.value, stage=grant.stage, party=grant.party))
    session.flush()
    _log(session, now, by, "grant", actor.email, grant.describe())
    return True


def _grant(row: GrantRow) -> Grant:
    return Grant(GrantRole(row.role), row.stage, row.party)


def _keep_a_directors_office(session: Session, removed: str) -> None:
    """Refuse a change that leaves nobody able to issue tokens or start a process."""
    holders = session.scalars(
        select(ActorRow.email).join(GrantRow, GrantRow.actor_id == ActorRow.id).join(TokenRow, TokenRow.actor_id == ActorRow.id)
        .where(GrantRow.role == GrantRole.director_office.value, TokenRow.revoked_at.is_(None)).limit(1)
    ).first()
    if holders is None:
        raise SamverkanError(_("{removed} är den sista i utvecklingsdirektörens kansli med en giltig personlig kod; ge rollen till "
                               "någon annan och ge dem en kod först (en borttappad kod: `samverkan token recover`, se "
                               "docs/security.md)", removed=removed))


def _check_targets(session: Session, grant: Grant, known: list[Definition] | None) -> None:
    """A grant must name a stage or party that a known definition has: those the store holds,
    and the default process shipped with the program."""
    if grant.stage is None and grant.party is None:
        return
    definitions = known if known is not None else _known_definitions(session)
    if grant.stage is not None and not any(grant.stage in {s.id for s in d.stages} for d in definitions):
        stages = sorted({s.id for d in definitions for s in d.stages})
        raise SamverkanError(_("--stage: {value} är inget steg i någon känd definition; stegen är: {stages}",
                               value=shown(grant.stage, 63), stages=", ".join(stages)))
    if grant.party is not None and not any(grant.party in {p.id for p in d.parties} for d in definitions):
        parties = sorted({p.id for d in definitions for p in d.parties})
        raise SamverkanError(_("--party: {value} är ingen part i någon känd definition; parterna är: {parties}",
                               value=shown(grant.party, 63), parties=", ".join(parties)))


def _known_definitions(session: Session) -> list[Definition]:
    from samverkan.process_definitions import DEFAULT_DEFINITION, load_definition
    from samverkan.instances import definition_from_text

    stored = [definition_from_text(row.sha256, row.text) for row in session.scalars(select(DefinitionRow))]
    return [*stored, load_definition(DEFAULT_DEFINITION).definition]


def _log(session: Session, now: pendulum.DateTime, by: str, action: str, subject: str, detail: str | None) -> None:
    session.add(AuthorityEventRow(at=now, by=by, action=action, subject=subject, detail=detail))
