"""What a command needs from its surroundings: the database, the clock, the actor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from samverkan.actors import authenticate
from samverkan.clock import Clock, clock_from_env
from samverkan.auth import Actor
from samverkan.store.database import Database


@contextmanager
def database() -> Iterator[Database]:
    db = Database()
    try:
        yield db
    finally:
        db.close()


def clock() -> Clock:
    return clock_from_env()


def actor(db: Database, email: str | None, token: str | None) -> Actor:
    if not email:
        from samverkan.errors import SamverkanError

        raise SamverkanError("--actor: who is acting? give --actor EMAIL (or SAMVERKAN_ACTOR) and --token")
    return authenticate(db, email, token)
