"""Run a coroutine to its end from synchronous code, whatever the thread is already doing."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, also where this thread's event loop is already running (a synchronous
    flow called from async code, Playwright's synchronous API): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(1, thread_name_prefix="samverkan-async") as pool:
        return pool.submit(asyncio.run, coroutine).result()
