"""Chinese names for the codes the figures are keyed by (departments, sectors, towns, …)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.states import URGENCY_LABELS
from intake.reference import Reference, load_reference
from models import Department
from models.department import COORDINATION_CODE
from oversight.stats import CHANNEL_LABELS, IDENTITY_LABELS, REPORT_TYPE_LABELS

NONE_LABEL = "（未填写）"
DIMENSION_LABELS = {"department": "部门", "sector": "行业领域", "town": "乡镇（街道）", "report_type": "举报类型",
                    "urgency": "紧急程度", "channel": "举报渠道", "identity": "举报方式", "week": "周"}


@dataclass(frozen=True)
class Labels:
    departments: dict[int, str]
    department_codes: dict[int, str]
    sectors: dict[str, str]
    towns: dict[str, str]
    district: str

    @classmethod
    def load(cls, db: Session, reference: Reference | None = None) -> "Labels":
        ref = reference or load_reference()
        depts = list(db.scalars(select(Department).order_by(Department.id)))
        return cls({d.id: d.name for d in depts}, {d.id: d.code for d in depts}, dict(ref.sectors), dict(ref.towns),
                   ref.district)

    def ranked_departments(self) -> dict[int, str]:
        """Departments that handle cases (the coordinating office dispatches, it is not ranked)."""
        return {i: n for i, n in self.departments.items() if self.department_codes[i] != COORDINATION_CODE}

    def name(self, dim: str, value: Any) -> str:
        if value is None:
            return NONE_LABEL
        table: dict[Any, str] = {"department": self.departments, "sector": self.sectors, "town": self.towns,
                                 "report_type": REPORT_TYPE_LABELS, "urgency": URGENCY_LABELS,
                                 "channel": CHANNEL_LABELS, "identity": IDENTITY_LABELS}.get(dim, {})
        return table.get(value, str(value))
