"""A generated case set written straight as metadata rows (no text, dummy sealed blobs), and an
independent plain-Python tally of what the oversight figures should be."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CaseRecord, Department, Report

CST = timezone(timedelta(hours=8))
TOWNS = ["xinyuan", "changcunzhang", "jiangguanchi", "wunudian", "shangji", "suqiao", "lingjing", "chencao"]
SECTORS = ["fire_safety", "construction", "gas", "hazardous_chemicals", "industry_trade"]
STATUSES = ["received", "accepted", "checking", "checked", "rectifying", "signed_off", "closed", "not_accepted"]


@dataclass
class Row:
    number: str
    filed_at: datetime
    department_id: int
    department_code: str
    town: str | None
    sector: str | None
    report_type: str
    urgency: str
    channel: str
    anonymous: bool
    internal: bool
    status: str
    due_on: date | None
    supervised: bool
    accepted_at: datetime | None
    checked_at: datetime | None
    conclusion: str | None
    hazard_level: str | None
    rectification_due: date | None
    signed_off_at: datetime | None
    transfers: int
    enterprise: str | None

    @property
    def is_open(self) -> bool:
        return self.status not in ("closed", "not_accepted", "merged")

    @property
    def hazard(self) -> bool:
        return self.conclusion in ("confirmed", "partly") and self.hazard_level in ("major", "general")

    @property
    def filed_day(self) -> date:
        return self.filed_at.astimezone(CST).date()


def generate(db: Session, n: int, start: date, days: int, seed: int = 7, departments: tuple[str, ...] = ("fire", "emergency", "housing")) -> list[Row]:
    rng = random.Random(seed)
    depts = {d.code: d.id for d in db.scalars(select(Department).where(Department.code.in_(departments)))}
    rows: list[Row] = []
    for i in range(n):
        day = start + timedelta(days=rng.randrange(days))
        filed = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=CST).astimezone(timezone.utc)
        code = rng.choice(list(depts))
        status = rng.choice(STATUSES)
        accepted = filed + timedelta(hours=rng.randrange(1, 200)) if status not in ("received", "not_accepted") else None
        checked = accepted + timedelta(days=rng.randrange(1, 60), hours=rng.randrange(24)) if accepted and status in ("checked", "rectifying", "signed_off", "closed") else None
        conclusion = rng.choice(["confirmed", "partly", "unfounded"]) if checked else None
        level = rng.choice(["major", "general", "none"]) if checked else None
        hazard = conclusion in ("confirmed", "partly") and level in ("major", "general")
        if status in ("rectifying", "signed_off") and not hazard:
            conclusion, level, hazard = "confirmed", "general", True
        rect_due = (checked.astimezone(CST).date() + timedelta(days=rng.randrange(5, 40))) if hazard and status in ("rectifying", "signed_off", "closed") else None
        signed = checked + timedelta(days=rng.randrange(3, 50)) if rect_due and status in ("signed_off", "closed") else None
        is_open = status not in ("closed", "not_accepted")
        rows.append(Row(
            number=f"AQT{seed:03d}-{i:06d}", filed_at=filed, department_id=depts[code], department_code=code,
            town=rng.choice(TOWNS + [None]), sector=rng.choice(SECTORS + [None]),
            report_type=rng.choice(["major_hazard", "general_hazard", "illegal_operation"]),
            urgency=rng.choice(["critical", "high", "medium", "low"]), channel=rng.choice(["web", "web", "api"]),
            anonymous=rng.random() < 0.6, internal=rng.random() < 0.1, status=status,
            due_on=(start + timedelta(days=rng.randrange(-30, days + 30))) if is_open else None,
            supervised=is_open and rng.random() < 0.1, accepted_at=accepted, checked_at=checked, conclusion=conclusion,
            hazard_level=level, rectification_due=rect_due, signed_off_at=signed, transfers=int(rng.random() < 0.1),
            enterprise=f"测试{rng.randrange(30)}号机械有限公司" if checked else None,
        ))
    for r in rows:
        rep = Report(number=r.number, receipt_locator=secrets.token_bytes(32), filed_at=r.filed_at, channel=r.channel,
                     status=r.status, department_id=r.department_id, town_code=r.town, anonymous=r.anonymous,
                     internal=r.internal, sector=r.sector, report_type=r.report_type, urgency=r.urgency,
                     is_open=r.is_open, due_on=r.due_on, supervised=r.supervised, sealed_content=b"x" * 40,
                     sealed_triage=b"x" * 40, content_sha256="0" * 64, certificate_signature="t", certificate_key_id="t")
        rep.case = CaseRecord(accepted_at=r.accepted_at, checked_at=r.checked_at, conclusion=r.conclusion,
                              hazard_level=r.hazard_level, rectification_due=r.rectification_due,
                              rectification={"responsible": "张三", "measures": "整改", "funds": "1万元",
                                             "deadline": r.rectification_due.isoformat(), "contingency": "有"} if r.rectification_due else None,
                              signed_off_at=r.signed_off_at, transfers=r.transfers, enterprise_name=r.enterprise)
        db.add(rep)
    db.commit()
    return rows
