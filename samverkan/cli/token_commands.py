"""`samverkan token issue|revoke|recover|code`: personal tokens and one-time codes, issued by the
director's office."""

from __future__ import annotations

import socket
import sys
import uuid
from typing import Annotated, Optional

import typer

from samverkan.errors import SamverkanError
from samverkan.i18n import _, n_
from samverkan.text import MAX_EMAIL, shown

from . import context
from .args import checked_instance, checked_name, checked_slug, checked_text
from .grant_args import NameOpt, PartyOpt, RoleOpt, StageOpt, checked_grant
from .instance_commands import ActorOpt, TokenOpt

app = typer.Typer(help="Personal tokens: issued by the director's office, stored only as a hash.", no_args_is_help=True)

@app.command("issue")
def issue(
    email: Annotated[str, typer.Argument(help="Whose token: their e-mail address.")],
    role: RoleOpt = None,
    stage: StageOpt = None,
    party: PartyOpt = None,
    name: NameOpt = None,
    actor: ActorOpt = None,
    token: TokenOpt = None,
) -> None:
    """Issue a personal token (printed once), granting --role first if given; without --role the
    token carries the roles the actor already holds. The first token needs no token."""
    from samverkan.actors import any_actor, issue_token

    email, grant = checked_grant(email, role, stage, party)
    name = checked_name(name)
    actor, token = context.credentials(actor, token)
    with context.database() as db:
        issuer = context.actor(db, actor, token) if any_actor(db) else None
        new = issue_token(db, email, grant, issuer, context.clock(), name)
        if issuer is None and context.store_is_simulated(db):  # the first write: say what it made
            print(_("varning: {warning}", warning=_(context.SIMULATED_WARNING)), file=sys.stderr)
    print(_("Personlig kod för {email}; visas bara nu, spara den säkert:", email=email.strip().lower()))
    print(new)


@app.command("revoke")
def revoke(
    email: Annotated[str, typer.Argument(help="Whose tokens to revoke.")],
    keep_roles: Annotated[bool, typer.Option("--keep-roles", help="Keep the actor's roles (a leaked token: revoke, then issue a new one).")] = False,
    actor: ActorOpt = None,
    token: TokenOpt = None,
) -> None:
    """Revoke every token of an actor and withdraw their roles (unless --keep-roles)."""
    from samverkan.actors import revoke_actor

    email = checked_text(email, "EMAIL", MAX_EMAIL)
    actor, token = context.credentials(actor, token)
    with context.database() as db:
        tokens, roles = revoke_actor(db, email, context.actor(db, actor, token), context.clock(), keep_roles)
    kept = _(" Behörigheterna finns kvar.") if keep_roles else n_(" Drog in {n} behörighet.", " Drog in {n} behörigheter.", roles)
    print(n_("Spärrade {n} personlig kod för {email}.", "Spärrade {n} personliga koder för {email}.", tokens,
             email=email.strip().lower()) + kept)


@app.command("code")
def code(
    email: Annotated[str, typer.Argument(help="Who gets the code: their e-mail address.")],
    instance: Annotated[str, typer.Option("--instance", help="The process instance.")],
    stage: Annotated[str, typer.Option("--stage", help="The stage the decision is on.")],
    party: Annotated[Optional[str], typer.Option("--party", help="The party, for a branch of a parallel stage.")] = None,
    run: Annotated[Optional[str], typer.Option("--run", help="A transition deployment's run id: the code is good only there.")] = None,
    request: Annotated[Optional[str], typer.Option("--request", help="With --run: the request's fingerprint, as its form shows it.")] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=90, help="How long it is valid.")] = 28,
    actor: ActorOpt = None,
    token: TokenOpt = None,
) -> None:
    """Issue a one-time code (printed once) for one decision, for a form in the dashboard: a
    branch's form, or with --run the transition deployment's confirmation. The holder's roles
    must permit the decision; the first use spends it."""
    from samverkan.actors import normalize_email
    from samverkan.codes import issue as issue_code
    from samverkan.graph import Node

    email = normalize_email(checked_text(email, "EMAIL", MAX_EMAIL), "EMAIL")
    instance = checked_instance(instance, "--instance")
    node = Node(checked_slug(stage, "--stage"), checked_slug(party, "--party"))
    run = _run_binding(run, request)
    actor, token = context.credentials(actor, token)
    with context.database() as db:
        issuer = context.actor(db, actor, token)
        if not issuer.is_director_office:
            raise SamverkanError(_("bara utvecklingsdirektörens kansli ger engångskoder: ange --actor och --token för någon där"))
        new = issue_code(db, email, instance, node, context.clock(), issuer.email, run, days)
    where = (_("körningen {run} (begäran {request})", run=run.split("#")[0], request=run.split("#")[1]) if run
             else _("{node} i {instance}", node=node.key, instance=instance))
    print(_("Engångskod för {email}, för {where}, giltig i {days} dagar; visas bara nu:", email=email, where=where, days=days))
    print(new)


def _run_binding(run: str | None, request: str | None) -> str | None:
    """A transition run's code is bound to the run and its request's fingerprint, both as the
    run's form shows them (tasks/forms.transition_binding)."""
    if run is None:
        if request is not None:
            raise SamverkanError(_("--request: hör ihop med --run, så som övergångskörningens formulär visar dem"))
        return None
    try:
        run_id = str(uuid.UUID(run.strip()))
    except ValueError:
        raise SamverkanError(_("--run: {value} är inget körnings-id (ett UUID, så som översikten visar det)",
                               value=shown(run, 60))) from None
    fingerprint = (request or "").strip().upper()
    if len(fingerprint) != 16 or any(c not in "0123456789ABCDEF" for c in fingerprint):
        raise SamverkanError(_("--request: {value} är inte det fingeravtryck som körningens formulär visar "
                               "(16 tecken, 0-9 och A-F)", value=shown(request or "", 40)))
    return f"{run_id}#{fingerprint}"


@app.command("recover")
def recover_token(
    email: Annotated[str, typer.Argument(help="Who in the director's office gets the new token.")],
    name: NameOpt = None,
) -> None:
    """When every director's-office token is lost: a new one, needing only database access.
    Logged with the operating-system user and host (see docs/security.md)."""
    from samverkan.actors import recover

    email = checked_text(email, "EMAIL", MAX_EMAIL)
    name = checked_name(name)
    by = f"recovery by {_os_user()}@{socket.gethostname()}"
    with context.database() as db:
        new = recover(db, email, context.clock(), by[:320], name)
    print(_("Återställning registrerad i behörighetsloggen ({by}). Personlig kod för utvecklingsdirektörens kansli, {email}; "
            "visas bara nu, spara den säkert:", by=by, email=email.strip().lower()))
    print(new)


def _os_user() -> str:
    """Who runs the command, from the process's user id: USER and LOGNAME are whatever the
    caller set them to, and the log must say who really did it."""
    import os
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # no name for this uid (a container)
        return f"uid-{os.getuid()}"
