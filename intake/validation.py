"""What a report must contain, checked in one place for the web form and the API.

Every error is a Chinese sentence keyed by the field it belongs to, so the form can show it next
to the field and the API can return it as ``{"errors": {field: message}}``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from intake.reference import Reference

DESCRIPTION_MIN = 5
DESCRIPTION_MAX = 10_000
MESSAGE_MAX = 3_000
CONTACT_CHOICES = {"receipt": "只通过查询码在本平台联系我", "phone": "可以打电话联系我", "other": "其他方式"}
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{9,11})$")  # mobile, or landline with area code
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _clean(value: Any, limit: int) -> str:
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\x00", "")
    return text.strip()[: limit + 1]


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "on", "yes", "y", "是"}


def valid_id_number(value: str) -> bool:
    """Mainland resident ID (GB 11643-1999): 18 characters with a checksum."""
    v = value.upper()
    if not re.fullmatch(r"\d{17}[\dX]", v):
        return False
    total = sum(int(d) * w for d, w in zip(v[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == v[17]


@dataclass
class ReportInput:
    description: str
    town_code: str | None = None
    address: str = ""
    enterprise: str = ""
    observed: str = ""
    sector_hint: str | None = None
    anonymous: bool = True
    name: str = ""
    phone: str = ""
    id_number: str = ""
    internal: bool = False
    contact: str = "receipt"
    contact_detail: str = ""

    def content(self) -> dict[str, Any]:
        """The sealed content document (no identity)."""
        return {
            "description": self.description,
            "town_code": self.town_code,
            "address": self.address,
            "enterprise": self.enterprise,
            "observed": self.observed,
            "sector_hint": self.sector_hint,
            "internal": self.internal,
        }

    def identity(self) -> dict[str, Any] | None:
        if self.anonymous and self.contact == "receipt":
            return None
        return {
            "anonymous": self.anonymous,
            "name": "" if self.anonymous else self.name,
            "phone": self.phone,
            "id_number": "" if self.anonymous else self.id_number,
            "contact": self.contact,
            "contact_detail": self.contact_detail,
        }


@dataclass
class Validated:
    value: ReportInput | None
    errors: dict[str, str] = field(default_factory=dict)


def validate_report(raw: Mapping[str, Any], ref: Reference, now: datetime | None = None) -> Validated:
    errors: dict[str, str] = {}
    description = _clean(raw.get("description"), DESCRIPTION_MAX)
    if not description:
        errors["description"] = "请填写发生了什么（举报内容不能为空）"
    elif len(description) < DESCRIPTION_MIN:
        errors["description"] = f"举报内容太短，请至少写{DESCRIPTION_MIN}个字，说清楚是什么问题"
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = f"举报内容不能超过{DESCRIPTION_MAX}字，可以把材料作为附件上传"

    town = _clean(raw.get("town"), 40) or None
    if town and town not in ref.towns and town != "other":
        errors["town"] = "请选择列表中的乡镇（街道）"
    address = _clean(raw.get("address"), 200)
    if len(address) > 200:
        errors["address"] = "详细地址不能超过200字"
    enterprise = _clean(raw.get("enterprise"), 100)
    if len(enterprise) > 100:
        errors["enterprise"] = "单位名称不能超过100字"

    observed = _clean(raw.get("observed"), 40)
    if observed:
        parsed = _parse_when(observed)
        now = now or datetime.now(timezone.utc)
        if parsed is None:
            errors["observed"] = "发现时间格式不对，请按“2026-11-20 14:30”填写，或留空"
        elif parsed.date() > (now + timedelta(hours=14)).date():
            errors["observed"] = "发现时间不能晚于今天"

    sector = _clean(raw.get("sector_hint"), 40) or None
    if sector and sector not in ref.sectors:
        errors["sector_hint"] = "请选择列表中的行业，或选“不清楚”"

    mode = _clean(raw.get("identity_mode"), 10) or "anonymous"
    anonymous = mode != "named"
    name = _clean(raw.get("name"), 40)
    phone = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", _clean(raw.get("phone"), 30)))
    id_number = unicodedata.normalize("NFKC", _clean(raw.get("id_number"), 20)).upper()
    contact = _clean(raw.get("contact"), 10) or "receipt"
    contact_detail = _clean(raw.get("contact_detail"), 100)
    if contact not in CONTACT_CHOICES:
        errors["contact"] = "请选择联系方式"
    if not anonymous:
        if not name:
            errors["name"] = "实名举报请填写姓名"
        elif len(name) > 40:
            errors["name"] = "姓名不能超过40字"
        if not phone:
            errors["phone"] = "实名举报请填写手机号码"
        if id_number and not valid_id_number(id_number):
            errors["id_number"] = "身份证号码不正确，请检查（18位，最后一位可能是X）"
    if phone and not _PHONE.match(phone):
        errors["phone"] = "电话号码格式不对：手机号为11位数字，座机请加区号"
    if contact == "phone" and not phone:
        errors["phone"] = "您选择了电话联系，请填写电话号码"
    if contact == "other" and not contact_detail:
        errors["contact_detail"] = "请写明联系方式"

    if errors:
        return Validated(None, errors)
    return Validated(
        ReportInput(
            description=description,
            town_code=town,
            address=address,
            enterprise=enterprise,
            observed=observed,
            sector_hint=sector,
            anonymous=anonymous,
            name=name if not anonymous else "",
            phone=phone,
            id_number=id_number if not anonymous else "",
            internal=_truthy(raw.get("internal")),
            contact=contact,
            contact_detail=contact_detail,
        )
    )


def _parse_when(text: str) -> datetime | None:
    t = unicodedata.normalize("NFKC", text).replace("T", " ").replace("/", "-").strip()
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y年%m月%d日", "%Y年%m月%d日 %H:%M"):
        try:
            return datetime.strptime(t, fmt).replace(tzinfo=timezone(timedelta(hours=8)))
        except ValueError:
            continue
    return None


def validate_message(raw: Any) -> tuple[str | None, str | None]:
    body = _clean(raw, MESSAGE_MAX)
    if not body:
        return None, "留言内容不能为空"
    if len(body) > MESSAGE_MAX:
        return None, f"留言不能超过{MESSAGE_MAX}字"
    return body, None
