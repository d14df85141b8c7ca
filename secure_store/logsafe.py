"""Describing a failure for the logs without its message.

Exception messages can quote what a reporter wrote (a parser's ``ValueError`` often does), and
tracebacks print them. Logs must never hold report content, so failures are logged as the
exception type and where it happened (file:line function), never the message. Standard library
only, so any package (triage included) can use it without pulling in the crypto stack.
"""

from __future__ import annotations

import traceback
from pathlib import Path


def failure_summary(exc: BaseException, max_frames: int = 8) -> str:
    frames = traceback.extract_tb(exc.__traceback__)[-max_frames:]
    where = "; ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames) or "?"
    return f"{type(exc).__name__} at {where}"
