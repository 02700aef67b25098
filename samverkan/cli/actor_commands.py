"""`samverkan grant`, `samverkan revoke` and `samverkan actors`: who may do what."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from samverkan.i18n import _

from . import context
from .args import checked_name
from .grant_args import NameOpt, PartyOpt, RequiredRole, StageOpt, checked_grant
from .instance_commands import ActorOpt, TokenOpt
from .table import table_lines


def register(app: typer.Typer) -> None:
    app.command("grant")(grant)
    app.command("revoke")(revoke)
    app.command("actors")(actors)


def grant(
    email: Annotated[str, typer.Argument(help="Who: their e-mail address.")],
    role: RequiredRole,
    stage: StageOpt = None,
    party: PartyOpt = None,
    name: NameOpt = None,
    actor: ActorOpt = None,
    token: TokenOpt = None,
) -> None:
    """Grant a role; every valid token of the actor carries it at once."""
    from samverkan.actors import grant_role

    email, new_grant = checked_grant(email, role, stage, party)
    name = checked_name(name)
    actor, token = context.credentials(actor, token)
    with context.database() as db:
        added = grant_role(db, email, new_grant, context.actor(db, actor, token), context.clock(), name)
    who = email.strip().lower()
    print(_("{who}: {role} beviljad.", who=who, role=new_grant.describe()) if added
          else _("{who}: {role} fanns redan.", who=who, role=new_grant.describe()))


def revoke(
    email: Annotated[str, typer.Argument(help="Whose role to withdraw.")],
    role: RequiredRole,
    stage: StageOpt = None,
    party: PartyOpt = None,
    actor: ActorOpt = None,
    token: TokenOpt = None,
) -> None:
    """Withdraw one role; every token of the actor loses it at once."""
    from samverkan.actors import withdraw_role

    email, old_grant = checked_grant(email, role, stage, party)
    actor, token = context.credentials(actor, token)
    with context.database() as db:
        withdraw_role(db, email, old_grant, context.actor(db, actor, token), context.clock())
    print(_("{who}: {role} indragen.", who=email.strip().lower(), role=old_grant.describe()))


def actors(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    log: Annotated[bool, typer.Option("--log", help="The authority log instead: every grant, withdrawal, token and recovery.")] = False,
) -> None:
    """Every actor, their roles and valid tokens (or, with --log, every change of authority)."""
    from samverkan.actors import authority_log, overview
    from samverkan.calendar import TIMEZONE

    with context.database() as db:
        if log:
            events = authority_log(db)
        else:
            views = overview(db)
    if log:
        rows = [{"at": e.at.in_timezone(TIMEZONE).isoformat(), "by": e.by, "action": e.action, "subject": e.subject,
                 "detail": e.detail} for e in events]
        if as_json:
            print(json.dumps({"authority_log": rows}, ensure_ascii=False, indent=2))
        else:
            print("\n".join(table_lines((_("tid"), _("av"), _("åtgärd"), _("vem"), _("detaljer")),
                                        [(r["at"][:16].replace("T", " "), r["by"], r["action"], r["subject"], r["detail"] or "")
                                         for r in rows])))
        return
    listed = [{"email": v.email, "name": v.name, "roles": [g.describe() for g in v.grants], "valid_tokens": v.valid_tokens,
               "last_issued": v.last_issued.in_timezone(TIMEZONE).isoformat() if v.last_issued else None} for v in views]
    if as_json:
        print(json.dumps({"actors": listed}, ensure_ascii=False, indent=2))
        return
    print("\n".join(table_lines((_("e-post"), _("namn"), _("behörigheter"), _("giltiga personliga koder"), _("senast utfärdad")),
                                [(a["email"], a["name"] or "", "; ".join(a["roles"]) or _("(inga)"), a["valid_tokens"],
                                  (a["last_issued"] or "")[:10]) for a in listed])))
