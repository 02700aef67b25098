"""Errors a user can act on. Each carries one clear line per problem; the command line prints
them and exits with code 2. Anything else that escapes is a bug."""

from __future__ import annotations


class SamverkanError(Exception):
    """Bad input or a refused action: one or more one-line problems, nothing changed."""

    def __init__(self, *problems: str) -> None:
        if not problems:
            raise ValueError("a SamverkanError needs at least one problem")
        self.problems = [" ".join(p.split()) for p in problems]  # one line each, whatever the input held
        super().__init__("; ".join(self.problems))


class DefinitionError(SamverkanError):
    """A process definition file that cannot be used."""


class StoreUnavailable(SamverkanError):
    """The store could not be used just now (busy, disk trouble, connection lost): nothing was
    changed and the same request may succeed later. Not a verdict on the request: an answer
    that meets this stays where it is, to be taken again."""
