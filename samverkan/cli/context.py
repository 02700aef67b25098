"""What a command needs from its surroundings: the database, the clock, the actor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from samverkan.errors import SamverkanError
from samverkan.i18n import N_, _
from samverkan.text import MAX_EMAIL, MAX_TOKEN

from .args import checked_text

if TYPE_CHECKING:  # imported where used: the command line starts without them
    from samverkan.auth import Actor
    from samverkan.clock import Clock
    from samverkan.store.database import Database


@contextmanager
def database() -> Iterator[Database]:
    from samverkan.store.database import Database

    db = Database()
    try:
        yield db
    finally:
        db.close()


def clock() -> Clock:
    from samverkan.clock import clock_from_env

    return clock_from_env()


def credentials(email: str | None, token: str | None) -> tuple[str | None, str | None]:
    """--actor and --token checked as text, before any use (even when they will be ignored)."""
    return checked_text(email, "--actor", MAX_EMAIL), checked_text(token, "--token", MAX_TOKEN)


def actor(db: Database, email: str | None, token: str | None) -> Actor:
    email, token = credentials(email, token)
    if not email:
        raise SamverkanError(_("--actor: vem gör ändringen? ange --actor E-POST (eller SAMVERKAN_ACTOR) och --token"))
    from samverkan.actors import authenticate

    return authenticate(db, email, token)


SIMULATED_WARNING = N_("lagret är simulerat (SAMVERKAN_NOW var satt när det först skrevs): det är inte det offentliga "
                       "diariet, och tiderna i det är valda, inte verkliga; använd en ny databas utan SAMVERKAN_NOW för "
                       "det verkliga diariet")


def store_is_simulated(db: Database) -> bool:
    from samverkan.store import clock_mode

    with db.read() as session:
        return clock_mode.mode(session) == clock_mode.SIMULATED
