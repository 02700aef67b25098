"""Who may do what: roles, personal tokens, and the permission rule for a transition.

Tokens are random and long, so a plain SHA-256 is a sound way to store them: the hash
cannot be turned back into a token, and lookups stay fast and exact."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from samverkan.process_definitions.model import Definition
from samverkan.errors import SamverkanError
from samverkan.graph import Node
from samverkan.i18n import _
from samverkan.text import shown

TOKEN_PREFIX = "svk_"


class GrantRole(StrEnum):
    director_office = "director-office"  # everything
    project_lead = "project-lead"  # the stages named in its grants, with their branches
    party_contact = "party-contact"  # the branches of its party


@dataclass(frozen=True)
class Grant:
    role: GrantRole
    stage: str | None = None
    party: str | None = None

    def describe(self) -> str:
        if self.role is GrantRole.project_lead:
            return _("projektledare för {stage}", stage=self.stage)
        if self.role is GrantRole.party_contact:
            return _("kontaktperson för {party}", party=self.party)
        return _("utvecklingsdirektörens kansli")


@dataclass(frozen=True)
class Actor:
    """Someone authenticated by a token, with every role granted to them."""

    email: str
    grants: tuple[Grant, ...]

    @property
    def is_director_office(self) -> bool:
        return any(g.role is GrantRole.director_office for g in self.grants)


def make_grant(role: str, stage: str | None, party: str | None) -> Grant:
    """A grant as given on the command line: a role, and the one thing it needs, nothing else."""
    try:
        grant_role = GrantRole(role)
    except ValueError:
        raise SamverkanError(_("--role: {value} är inte ett av: {roles}", value=shown(role, 40),
                               roles=", ".join(r.value for r in GrantRole))) from None
    if grant_role is GrantRole.director_office and (stage or party):
        raise SamverkanError(_("--stage/--party: utvecklingsdirektörens kansli får göra allt; utelämna dem"))
    if grant_role is GrantRole.project_lead:
        if not stage:
            raise SamverkanError(_("--stage: en projektledare leder ett steg; ange vilket"))
        if party:
            raise SamverkanError(_("--party: en projektledare leder ett helt steg, alla dess grenar; utelämna --party"))
    if grant_role is GrantRole.party_contact:
        if not party:
            raise SamverkanError(_("--party: en kontaktperson talar för en part; ange vilken"))
        if stage:
            raise SamverkanError(_("--stage: en kontaktperson får göra allt i sin parts grenar; utelämna --stage"))
    return Grant(grant_role, stage, party)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


# A one-time code is read from an e-mail and typed into a form: 16 characters of Crockford's
# base32 (no I, L, O or U to misread), in four groups, 80 bits. Always both digits and letters,
# so that the text gate can tell one from words in a comment (samverkan.text).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    while True:
        body = "".join(secrets.choice(CODE_ALPHABET) for _position in range(CODE_LENGTH))
        if any(c.isdigit() for c in body) and any(c.isalpha() for c in body):
            return "-".join(body[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def code_body(typed: str) -> str | None:
    """A code as typed (any case, with or without dashes and spaces, O for 0), in its one
    spelling; None if it cannot be a code."""
    body = "".join(typed.split()).replace("-", "").upper().translate(_READ_AS)
    if len(body) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in body):
        return None
    return body


def code_hash(typed: str) -> str | None:
    body = code_body(typed)
    return hashlib.sha256(("code:" + body).encode("ascii")).hexdigest() if body else None


def permits(grant: Grant, node: Node, answering: str | None = None) -> bool:
    """`answering`: the party that answers this transition when it is not the branch's own (the
    stage's counterparty accepting amendments): its contacts may, the branch's own may not."""
    if grant.role is GrantRole.director_office:
        return True
    if grant.role is GrantRole.project_lead:
        return grant.stage == node.stage
    if answering is not None:
        return grant.party == answering
    return node.party is not None and grant.party == node.party


def may_transition(actor: Actor, node: Node, answering: str | None = None) -> bool:
    return any(permits(g, node, answering) for g in actor.grants)


def may_start(actor: Actor | None, any_actor_exists: bool) -> None:
    """Only the director's office starts a process; on a fresh install, with no one to hold a
    token yet, anyone may (recorded as "bootstrap")."""
    if not any_actor_exists:
        return
    if actor is None:
        raise SamverkanError(_("--actor: bara utvecklingsdirektörens kansli får starta en process; ange --actor och --token"))
    if not actor.is_director_office:
        raise SamverkanError(_("{email} får inte starta en process; det får bara utvecklingsdirektörens kansli", email=actor.email))


def who_may(definition: Definition, node: Node, answering: str | None = None) -> str:
    """In words, for a refusal: who may make a transition on this node."""
    who = [_("utvecklingsdirektörens kansli"), _("projektledaren för ”{stage}”", stage=definition.stage(node.stage).name)]
    if answering is not None or node.party is not None:
        who.append(_("en kontaktperson för {party}", party=definition.party(answering or node.party).name))
    return _("{some} eller {last}", some=", ".join(who[:-1]), last=who[-1])
