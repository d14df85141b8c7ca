"""Chinese-text triage of safety reports: routing, classification, urgency, standards, duplicates.

A plain library (no Flask). The portal calls :func:`route` once per submission, with the plaintext
held only in memory, and stores the returned :class:`TriageResult` with the encrypted report.
"""

from triage.result import TriageResult
from triage.routing import route

__all__ = ["TriageResult", "route"]
