"""Sealing what staff write about a case under the report's current key, and opening it again.

Staff notes routinely quote the report, so they get the report's protection: the current epoch's
content key, bound to the report number and the kind of note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from secure_store import envelope
from secure_store.report_keys import ReportKeys, seal_ctx

if TYPE_CHECKING:
    from cases.desk import Desk
    from models import Report


def seal_text(report: "Report", keys: ReportKeys, what: str, text: str) -> tuple[bytes, int]:
    return envelope.seal(keys.current, text.encode("utf-8"), seal_ctx(report.number, what)), keys.epoch


def open_text(report: "Report", keys: ReportKeys, what: str, blob: bytes | None, epoch: int) -> str | None:
    if blob is None:
        return None
    return envelope.open_sealed(keys.for_epoch(epoch), blob, seal_ctx(report.number, what)).decode("utf-8")


def send_to_reporter(desk: "Desk", report: "Report", body: str, keys: ReportKeys | None = None) -> None:
    """A message from the handling department to the reporter (shown in the receipt portal)."""
    from intake.service import seal_message

    keys = keys or desk.keys(report)
    report.messages.append(seal_message(report, keys, body, "staff"))
    desk.event(report, "staff_message", True)
    desk.audit("message", report)
