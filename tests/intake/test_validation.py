from intake.reference import load_reference
from intake.validation import valid_id_number, validate_message, validate_report

REF = load_reference()


def test_minimal_anonymous_report_is_valid() -> None:
    v = validate_report({"description": "加油站旁边有人卖散装汽油"}, REF)
    assert v.errors == {} and v.value is not None
    assert v.value.anonymous and v.value.identity() is None


def test_every_error_is_chinese_and_at_its_field() -> None:
    v = validate_report({"description": " ", "town": "atlantis", "sector_hint": "space", "identity_mode": "named",
                         "phone": "12345", "id_number": "410102199001011235", "observed": "昨天下午",
                         "contact": "other"}, REF)
    assert set(v.errors) == {"description", "town", "sector_hint", "name", "phone", "id_number", "observed", "contact_detail"}
    for msg in v.errors.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in msg)


def test_description_limits() -> None:
    assert "太短" in validate_report({"description": "着火"}, REF).errors["description"]
    assert "10000" in validate_report({"description": "隐" * 10_001}, REF).errors["description"]


def test_id_number_checksum() -> None:
    assert valid_id_number("11010519491231002X")
    assert not valid_id_number("110105194912310021")
    assert not valid_id_number("1101051949123100")


def test_named_report_keeps_identity_separately() -> None:
    v = validate_report({"description": "工地脚手架没有连墙件", "identity_mode": "named", "name": "张三",
                         "phone": "138 0000 0000", "id_number": "11010519491231002x", "internal": "1",
                         "contact": "phone"}, REF)
    assert v.errors == {}
    assert v.value is not None
    assert "张三" not in str(v.value.content())
    assert v.value.identity() == {"anonymous": False, "name": "张三", "phone": "13800000000",
                                  "id_number": "11010519491231002X", "contact": "phone", "contact_detail": ""}
    assert v.value.internal


def test_future_observed_date_rejected_and_formats_accepted() -> None:
    assert "observed" in validate_report({"description": "矿山越界开采", "observed": "2099-01-01"}, REF).errors
    for ok in ("2026-11-20", "2026-11-20 14:30", "2026/11/20", "2026年11月20日"):
        assert validate_report({"description": "矿山越界开采", "observed": ok}, REF).errors == {}


def test_messages() -> None:
    assert validate_message("  ")[1]
    assert validate_message("请尽快处理")[0] == "请尽快处理"
