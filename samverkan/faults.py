"""Named crash points, so a test can kill the process at an exact moment of a transaction
(SIGKILL: no cleanup, no rollback handler) and prove the database is before or after it,
never between. Inert unless SAMVERKAN_TEST_CRASH_AT names the point."""

from __future__ import annotations

import os
import signal


def crash_point(name: str, session=None) -> None:
    if os.environ.get("SAMVERKAN_TEST_CRASH_AT") != name:
        return
    if session is not None:
        session.flush()  # everything is written to the database, uncommitted
    os.kill(os.getpid(), signal.SIGKILL)
