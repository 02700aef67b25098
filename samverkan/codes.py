"""One-time codes: the credential a form takes, so that a personal token is never typed where
Prefect keeps it (docs/security.md, "The forms").

A code is bound to one decision (an instance's stage, or one party's branch of it; for the
transition deployment also one run), held by one actor whose roles must still permit that
decision, stored as a hash, and valid for a few weeks. Its first presentation spends it,
whatever becomes of the answer: a code a viewer reads in Prefect has been spent by the time
it can be read, and only that same answer, retried after a crash, passes with it again. A
code shown anywhere it does not belong is spent as well, for it has been seen.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pendulum
from sqlalchemy import select
from sqlalchemy.orm import Session

from samverkan.actors import actor_of
from samverkan.auth import Actor, code_hash, may_transition, new_code, token_hash
from samverkan.clock import Clock
from samverkan.errors import SamverkanError
from samverkan.faults import crash_point
from samverkan.graph import Node
from samverkan.i18n import N_, _
from samverkan.instances import load
from samverkan.store.clock_mode import write_time
from samverkan.store.database import Database
from samverkan.store.models import ActorRow, AuthorityEventRow, CodeRow, TokenRow
from samverkan.text import looks_like_token, secret_shaped

VALID_DAYS = 28  # a reminder's code outlives the next few reminders, each of which brings a new one

# Where a branch's form is shown in a run the engine did not make (a "custom run" of the branch
# deployment, started by hand from the dashboard): no code is good there, and one shown there is spent.
FOREIGN_RUN = "not-made-by-the-engine"

USELESS = N_("engångskoden gäller inte: den är fel, redan använd eller för gammal. Använd koden i den "
             "senaste påminnelsen, eller be kansliet om en ny")


@dataclass(frozen=True)
class Redeemed:
    actor: Actor


def answer_digest(request_key: str, raw: str) -> str:
    """What a code is spent for: one answer (its run, input and content)."""
    return hashlib.sha256(f"{request_key}\n{raw}".encode("utf-8", "surrogatepass")).hexdigest()


def issue(db: Database, email: str, instance_id: str, node: Node, clock: Clock, issued_by: str,
          run_id: str | None = None, days: int = VALID_DAYS) -> str:
    """A new code for `email` to decide `node`, printed once; the actor's roles must permit it."""
    with db.transaction() as session:
        now = write_time(session, clock)
        code = issue_in(session, email, instance_id, node, now, issued_by, run_id, days)
        if code is None:
            raise SamverkanError(_("EMAIL: {email} har ingen roll som får besluta om {node}; ge en först (samverkan grant)",
                                   email=email, node=node.key))
        session.add(AuthorityEventRow(at=now, by=issued_by, action="code", subject=email,
                                      detail=_("engångskod för {instance} {node}", instance=instance_id, node=node.key)
                                      + (_(", körning {run}", run=run_id) if run_id else "")))
    return code


def issue_in(session: Session, email: str, instance_id: str, node: Node, now: pendulum.DateTime, issued_by: str,
             run_id: str | None = None, days: int = VALID_DAYS) -> str | None:
    """A new code within `session`, or None if `email` holds no role that permits `node`."""
    row = session.scalars(select(ActorRow).where(ActorRow.email == email)).first()
    if row is None or not _may_decide(session, _actor(row), instance_id, node):
        return None  # asked first: most recipients of a reminder hold no role, and loading costs
    loaded = load(session, instance_id)
    if node not in loaded.state:
        raise SamverkanError(_("--stage/--party: {instance} har inget {node}", instance=instance_id, node=node.key))
    code = new_code()
    session.add(CodeRow(code_hash=code_hash(code), actor_id=row.id, instance_id=loaded.instance.id, stage=node.stage,
                        party=node.party, run_id=run_id, issued_at=now, issued_by=issued_by,
                        expires_at=now.add(days=days)))
    return code


def redeem(db: Database, typed: object, instance_id: str, node: Node, run_id: str | None, digest: str,
           clock: Clock) -> Actor:
    """The actor a code typed into a form speaks for, the code spent on this answer; or a
    SamverkanError that never echoes what was typed. `run_id`: the transition deployment's run
    (its codes are bound to it); None for a branch's form (its codes are bound to the branch)."""
    refusal: str | None = None
    with db.transaction() as session:
        now = write_time(session, clock)
        text = typed if isinstance(typed, str) else ""
        hashed = code_hash(text)
        if hashed is None:
            refusal = _not_a_code(session, text, now)
            row = None
        else:
            # Locked: two answers showing the same code at once (two processes) take turns, and
            # the second finds it spent (PostgreSQL; SQLite's write lock already serialises).
            row = session.scalars(select(CodeRow).where(CodeRow.code_hash == hashed).with_for_update()).first()
        if refusal is None and row is None:
            refusal = _(USELESS)
        elif row is not None:
            crash_point("code-read", session)
            refusal = _spend(session, row, instance_id, node, run_id, digest, now)
        actor = _actor(session.get(ActorRow, row.actor_id)) if row is not None and refusal is None else None
    if actor is None:
        raise SamverkanError(_("”Engångskod”: {refusal}", refusal=refusal))
    return actor


def _spend(session: Session, row: CodeRow, instance_id: str, node: Node, run_id: str | None, digest: str,
           now: pendulum.DateTime) -> str | None:
    if row.spent_at is not None:
        return None if row.spent_how == "used" and row.spent_for == digest else _(USELESS)
    if pendulum.instance(row.expires_at) <= now:
        return _(USELESS)
    here = (row.instance_id, row.stage, row.party, row.run_id) == (instance_id, node.stage, node.party, run_id)
    if not here:
        row.spent_at, row.spent_how = now, "elsewhere"
        return _("engångskoden hör till ett annat beslut eller formulär. Den har nu visats här och gäller inte längre; "
                 "använd rätt formulär med en ny kod")
    holder = _actor(session.get(ActorRow, row.actor_id))
    if not _may_decide(session, holder, instance_id, node):
        row.spent_at, row.spent_how = now, "withdrawn"
        return _("{email} har inte längre rätt att besluta om detta; koden gäller inte längre", email=holder.email)
    row.spent_at, row.spent_how, row.spent_for = now, "used", digest
    return None


def spend_exposed(db: Database, texts: list[str], clock: Clock) -> None:
    """A code or token typed where Prefect shows it, in a field not meant for it (a comment, a
    run's parameters), has been exposed to every viewer: the code is spent, the token revoked
    (its holder keeps the roles). The field itself is refused by the text gate."""
    pieces = {piece for text in texts for piece in secret_shaped(text)}
    if not pieces:
        return
    code_hashes = {h for h in (code_hash(piece) for piece in pieces) if h}
    token_hashes = {token_hash(piece) for piece in pieces}
    with db.transaction() as session:
        now = write_time(session, clock)
        for row in session.scalars(select(CodeRow).where(CodeRow.code_hash.in_(code_hashes), CodeRow.spent_at.is_(None))):
            row.spent_at, row.spent_how = now, "elsewhere"
        _revoke_exposed(session, token_hashes, now)


def _revoke_exposed(session: Session, hashes: set[str], now: pendulum.DateTime) -> None:
    """Revoke the live tokens among `hashes`, typed where Prefect shows them; the roles stay."""
    for row in session.scalars(select(TokenRow).where(TokenRow.token_hash.in_(hashes), TokenRow.revoked_at.is_(None))):
        row.revoked_at = now
        owner = session.get(ActorRow, row.actor_id)
        session.add(AuthorityEventRow(at=now, by="form", action="revoke", subject=owner.email,
                                      detail=_("1 personlig kod: skriven i ett formulär, där Prefect visar den")))


def _not_a_code(session: Session, text: str, now: pendulum.DateTime) -> str:
    """The refusal for what is not a code. A personal token typed where Prefect keeps it has
    been exposed to every viewer: it is revoked at once (the roles stay)."""
    if looks_like_token(text):
        _revoke_exposed(session, {token_hash(text)}, now)
        return _("det här ser ut som en personlig kod, inte en engångskod. En personlig kod skrivs aldrig i ett "
                 "formulär; den som skrevs här är nu spärrad. Be kansliet om en ny, och använd engångskoden i påminnelsen")
    return _("skriv engångskoden från påminnelsen, 16 tecken i fyra grupper (t.ex. 7KQ2-…)")


def _may_decide(session: Session, actor: Actor, instance_id: str, node: Node) -> bool:
    """Whether the actor may decide the node: by its roles, or, while the branch waits for the
    stage's counterparty to answer (amendments), as a contact of the counterparty."""
    if may_transition(actor, node):
        return True
    if not any(g.party for g in actor.grants):
        return False  # only a party contact can be the counterparty's: no need to load the instance
    loaded = load(session, instance_id)
    stage = loaded.definition.stage(node.stage) if node.stage in {s.id for s in loaded.definition.stages} else None
    if stage is None or stage.counterparty is None or node not in loaded.state:
        return False
    return (loaded.definition.awaits_counterparty(stage, loaded.state[node].state)
            and may_transition(actor, node, stage.counterparty.party))


def _actor(row: ActorRow) -> Actor:
    return actor_of(row)
