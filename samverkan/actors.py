"""Actors and their personal tokens: issued by the director's office, stored only as a hash.

The very first token, on an empty database, can only be for the director's office, and
needs no token to issue: someone has to be first."""

from __future__ import annotations

import pendulum
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import func, select, text

from process_definitions.model import Email
from samverkan.auth import Actor, Grant, GrantRole, new_token, token_hash
from samverkan.errors import SamverkanError
from samverkan.store.database import Database
from samverkan.store.models import ActorRow, GrantRow, TokenRow
from samverkan.text import shown

_EMAIL = TypeAdapter(Email)


def normalize_email(email: str, what: str = "--actor") -> str:
    try:
        return _EMAIL.validate_python(email.strip())
    except ValidationError:
        raise SamverkanError(f"{what}: malformed e-mail address {shown(email)}") from None


def authenticate(db: Database, email: str, token: str | None) -> Actor:
    email = normalize_email(email)
    if not token:
        raise SamverkanError(f"--token: {email} must give a personal token (--token or SAMVERKAN_TOKEN)")
    with db.transaction() as session:
        row = session.scalars(select(TokenRow).where(TokenRow.token_hash == token_hash(token), TokenRow.revoked_at.is_(None))).first()
        actor = session.get(ActorRow, row.actor_id) if row else None
        if actor is None or actor.email != email:
            raise SamverkanError(f"--token: not a valid token for {email} (mistyped, revoked, or someone else's)")
        return Actor(actor.email, tuple(Grant(GrantRole(g.role), g.stage, g.party) for g in actor.grants))


def any_actor(db: Database) -> bool:
    with db.transaction() as session:
        return (session.scalar(select(func.count()).select_from(ActorRow)) or 0) > 0


def issue_token(db: Database, email: str, grant: Grant, issuer: Actor | None, now: pendulum.DateTime, name: str | None = None) -> str:
    """A new token for `email`, with `grant` added to the actor's roles. Prints once, kept as a hash."""
    email = normalize_email(email, "EMAIL")
    token = new_token()
    with db.transaction() as session:
        if session.bind.dialect.name == "postgresql":
            # Two first tokens at once would each see no actors and both become the director's
            # office; this lock queues them (SQLite: BEGIN IMMEDIATE already does). It also
            # queues two new actors with the same e-mail address, which would break uniqueness.
            session.execute(text("LOCK TABLE actors IN EXCLUSIVE MODE"))
        first = (session.scalar(select(func.count()).select_from(ActorRow)) or 0) == 0
        if first and grant.role is not GrantRole.director_office:
            raise SamverkanError("the first token must be for the director's office: --role director-office")
        if not first and (issuer is None or not issuer.is_director_office):
            raise SamverkanError("only the director's office issues tokens: give --actor and --token of someone in it")
        actor = session.scalars(select(ActorRow).where(ActorRow.email == email)).first()
        if actor is None:
            actor = ActorRow(email=email, name=name, created_at=now, created_by=issuer.email if issuer else "bootstrap")
            session.add(actor)
            session.flush()
        if not any((g.role, g.stage, g.party) == (grant.role.value, grant.stage, grant.party) for g in actor.grants):
            actor.grants.append(GrantRow(role=grant.role.value, stage=grant.stage, party=grant.party))
        session.add(TokenRow(actor_id=actor.id, token_hash=token_hash(token), created_at=now,
                             created_by=issuer.email if issuer else "bootstrap"))
    return token


def revoke_tokens(db: Database, email: str, issuer: Actor, now: pendulum.DateTime) -> int:
    email = normalize_email(email, "EMAIL")
    if not issuer.is_director_office:
        raise SamverkanError("only the director's office revokes tokens")
    with db.transaction() as session:
        actor = session.scalars(select(ActorRow).where(ActorRow.email == email)).first()
        if actor is None:
            raise SamverkanError(f"EMAIL: no actor {email}")
        tokens = list(session.scalars(select(TokenRow).where(TokenRow.actor_id == actor.id, TokenRow.revoked_at.is_(None))))
        for row in tokens:
            row.revoked_at = now
        return len(tokens)
