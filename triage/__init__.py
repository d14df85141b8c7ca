"""Chinese-text triage of safety reports: routing, classification, urgency, standards, duplicates.

A plain library (no Flask). The portal calls :func:`route` once per submission, with the plaintext
held only in memory, and stores the returned :class:`TriageResult` with the encrypted report.
"""

from triage.result import StandardMatch, TriageResult
from triage.routing import Triager, classify, route

__all__ = ["StandardMatch", "TriageResult", "Triager", "classify", "route"]
