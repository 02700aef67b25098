"""`samverkan token issue|revoke`: personal tokens, issued by the director's office."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from samverkan.actors import any_actor, issue_token, revoke_tokens
from samverkan.auth import Grant, GrantRole
from samverkan.errors import SamverkanError
from samverkan.text import MAX_EMAIL, MAX_NAME, shown

from . import context
from .args import checked_slug, checked_text
from .instance_commands import ActorOpt, TokenOpt

app = typer.Typer(help="Personal tokens: issued by the director's office, stored only as a hash.", no_args_is_help=True)


@app.command("issue")
def issue(
    email: Annotated[str, typer.Argument(help="Whose token: their e-mail address.")],
    role: Annotated[str, typer.Option("--role", help="director-office, project-lead or party-contact.")],
    stage: Annotated[Optional[str], typer.Option("--stage", help="With project-lead: the stage they lead.")] = None,
    party: Annotated[Optional[str], typer.Option("--party", help="With party-contact: their party.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Their name, for the record.")] = None,
    actor: ActorOpt = None,
    token: TokenOpt = None,
) -> None:
    """Issue a personal token (printed once) and grant a role. The first needs no token."""
    email = checked_text(email, "EMAIL", MAX_EMAIL)
    stage, party = checked_slug(stage, "--stage"), checked_slug(party, "--party")
    name = checked_text(name, "--name", MAX_NAME)
    actor, token = context.credentials(actor, token)
    try:
        grant_role = GrantRole(role)
    except ValueError:
        raise SamverkanError(f"--role: {shown(role)} is not one of: {', '.join(r.value for r in GrantRole)}") from None
    if grant_role is GrantRole.project_lead and not stage:
        raise SamverkanError("--stage: a project lead leads a stage; name it")
    if grant_role is GrantRole.party_contact and not party:
        raise SamverkanError("--party: a party contact speaks for a party; name it")
    if grant_role is GrantRole.director_office and (stage or party):
        raise SamverkanError("--stage/--party: the director's office may act on everything; leave them out")
    now = context.clock().now()
    with context.database() as db:
        issuer = context.actor(db, actor, token) if any_actor(db) else None
        new = issue_token(db, email, Grant(grant_role, stage if grant_role is GrantRole.project_lead else None,
                                           party if grant_role is GrantRole.party_contact else None), issuer, now, name)
    print(f"Token för {email.strip().lower()} ({grant_role.value}); visas bara nu, spara den säkert:")
    print(new)


@app.command("revoke")
def revoke(
    email: Annotated[str, typer.Argument(help="Whose tokens to revoke.")],
    actor: ActorOpt = None,
    token: TokenOpt = None,
) -> None:
    """Revoke every token of an actor."""
    email = checked_text(email, "EMAIL", MAX_EMAIL)
    actor, token = context.credentials(actor, token)
    now = context.clock().now()
    with context.database() as db:
        count = revoke_tokens(db, email, context.actor(db, actor, token), now)
    print(f"Återkallade {count} token för {email.strip().lower()}.")
