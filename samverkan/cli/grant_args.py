"""The arguments that name a role for someone (`token issue`, `grant`, `revoke`), checked alike."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from samverkan.errors import SamverkanError
from samverkan.i18n import _
from samverkan.text import MAX_EMAIL

from .args import checked_slug, checked_text

if TYPE_CHECKING:
    from samverkan.auth import Grant

ROLES_HELP = "director-office, project-lead or party-contact."
RoleOpt = Annotated[Optional[str], typer.Option("--role", help=ROLES_HELP)]
RequiredRole = Annotated[str, typer.Option("--role", help=ROLES_HELP)]
StageOpt = Annotated[Optional[str], typer.Option("--stage", help="With project-lead: the stage they lead.")]
PartyOpt = Annotated[Optional[str], typer.Option("--party", help="With party-contact: their party.")]
NameOpt = Annotated[Optional[str], typer.Option("--name", help="Their name, for the record.")]


def checked_grant(email: str, role: str | None, stage: str | None, party: str | None) -> tuple[str, Grant | None]:
    """The e-mail address as text, and the grant the options name (None without --role)."""
    email = checked_text(email, "EMAIL", MAX_EMAIL)
    stage, party = checked_slug(stage, "--stage"), checked_slug(party, "--party")
    if role is None:
        if stage or party:
            raise SamverkanError(_("--stage/--party: ange den --role de hör till"))
        return email, None
    from samverkan.auth import make_grant

    return email, make_grant(role, stage, party)
