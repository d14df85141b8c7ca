"""route()/classify(): never raising, falling back without artifacts, valid codes with them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from triage import routing
from triage.data import NO_SECTOR, load_taxonomy
from triage.result import TriageResult

ODD_INPUTS = [
    "",
    "   ",
    "\n\t",
    "a",
    "！！！",
    "😀🔥💥" * 50,
    "消防" * 5000,
    "\x00\x01\ufffd\ud7ff",
    "SELECT * FROM reports; --",
    "{\"text\": 1}",
]


@pytest.fixture()
def no_artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TRIAGE_ARTIFACTS", str(tmp_path / "missing"))
    routing.reset()
    yield
    routing.reset()


@pytest.mark.parametrize("text", ODD_INPUTS + [None, 42, b"bytes"])  # type: ignore[list-item]
def test_route_never_raises_without_artifacts(no_artifacts: None, text: object) -> None:
    r = routing.route(text)  # type: ignore[arg-type]
    assert isinstance(r, TriageResult)
    assert r.needs_review is True
    assert r.department is None
    assert r.reasons


def test_fallback_still_flags_critical_and_extracts(no_artifacts: None) -> None:
    r = routing.route("灵井镇利民涂料厂的储罐正在泄漏，快来人", town=None)
    assert r.needs_review is True
    assert r.urgency == "critical"
    assert r.town == "灵井镇" and r.town_code == "lingjing"
    assert r.enterprise == "利民涂料厂"
    assert any("分诊模型未启用" in x for x in r.reasons)


def test_corrupt_artifacts_fall_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "bad"
    d.mkdir()
    (d / "triage.joblib").write_bytes(b"not a joblib file")
    monkeypatch.setenv("TRIAGE_ARTIFACTS", str(d))
    routing.reset()
    try:
        r = routing.route("消防通道被堵了")
        assert r.needs_review is True and r.department is None
    finally:
        routing.reset()


@pytest.mark.parametrize("text", ODD_INPUTS + [None, 42])  # type: ignore[list-item]
def test_route_never_raises_with_model(routing_with: object, text: object) -> None:
    r = routing.route(text)  # type: ignore[arg-type]
    assert isinstance(r, TriageResult)
    assert 0 <= r.urgency_score <= 100


def test_route_with_model_returns_valid_codes(routing_with: object) -> None:
    tax = load_taxonomy()
    r = routing.route("小区楼道里堆满了纸箱，消防通道被堵死了，安全出口也锁了", town="灵井镇", sector_hint="gas")
    assert r.department in tax.departments
    assert r.department == "fire"
    assert r.sector in (*tax.sectors, None)
    assert r.report_type in tax.report_types
    assert r.urgency in tax.urgencies
    assert 0.0 <= r.confidence <= 1.0
    assert all(d in tax.departments and 0 <= p <= 1 for d, p in r.alternatives)
    assert r.town == "灵井镇" and r.town_code == "lingjing"
    assert any(x.startswith("关键词") for x in r.reasons)
    assert r.model_version != "none"


def test_sector_hint_is_not_used_for_routing(routing_with: object) -> None:
    text = "小区楼道里堆满了纸箱，消防通道被堵死了"
    assert routing.route(text, sector_hint="gas").department == routing.route(text).department


def test_out_of_scope_is_low_and_sectorless(routing_with: object) -> None:
    r = routing.route("老板拖欠我三个月工资不给，请帮我讨回来")
    assert r.report_type == "out_of_scope"
    assert r.sector is None
    assert r.urgency == "low"


def test_low_confidence_goes_to_review(mini_triager) -> None:
    strict = routing.Triager(mini_triager.art, review_threshold=1.01, with_standards=False)
    r = strict.classify("消防通道被堵了")
    assert r.needs_review is True
    assert routing.REVIEW_REASON in r.reasons
    lax = routing.Triager(mini_triager.art, review_threshold=0.0, with_standards=False)
    assert lax.classify("消防通道被堵了").needs_review is False


def test_classify_alias_and_threads(routing_with: object) -> None:
    texts = ["饭店后厨燃气味特别大，现在还在漏气", "电梯卡在八楼，里面困着人", "消防通道堵了"] * 5
    results: list[TriageResult] = []
    errors: list[BaseException] = []

    def work(t: str) -> None:
        try:
            results.append(routing.classify(t))
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == len(texts)


def test_batch_equals_single(mini_triager) -> None:
    texts = ["消防通道堵了", "化工厂储罐正在泄漏", "拖欠工资"]
    batch = mini_triager.classify_batch(texts)
    for t, b in zip(texts, batch):
        s = mini_triager.classify(t)
        assert (s.department, s.sector, s.report_type, s.urgency) == (b.department, b.sector, b.report_type, b.urgency)
        assert s.confidence == pytest.approx(b.confidence, abs=1e-6)


def test_no_sector_label_never_leaks(mini_triager) -> None:
    r = mini_triager.classify("想问一下社保怎么交")
    assert r.sector != NO_SECTOR


def test_standards_matches_are_attached_when_available(mini_triager, monkeypatch: pytest.MonkeyPatch) -> None:
    standards = pytest.importorskip("triage.standards")
    monkeypatch.setenv("TRIAGE_STANDARDS_SEMANTIC", "0")  # lexical only: fast and deterministic
    tri = routing.Triager(mini_triager.art, with_standards=True)
    text = "化工厂仓库里硫酸和双氧水混放，超量储存危险化学品"
    r = tri.classify(text)
    assert all(m.__class__.__name__ == "StandardMatch" for m in r.standard_matches)
    direct = standards.match(text, top_k=3)
    if direct:
        assert r.standard_matches, "matcher finds items but route() attached none"
    monkeypatch.setenv("TRIAGE_STANDARDS", "0")
    assert tri.classify(text).standard_matches == []


def test_standards_are_not_searched_for_likely_out_of_scope_reports(mini_triager, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the out-of-scope decision but above STANDARDS_OOS_SKIP, no standard item is attached:
    a topic word (燃气, 电梯) is not a hazard."""
    pytest.importorskip("triage.standards")
    monkeypatch.setenv("TRIAGE_STANDARDS_SEMANTIC", "0")
    tri = routing.Triager(mini_triager.art, with_standards=True)
    text = "化工厂仓库里硫酸和双氧水混放，超量储存危险化学品"
    monkeypatch.setattr(routing, "STANDARDS_OOS_SKIP", 1.01)
    found = tri.classify(text).standard_matches
    monkeypatch.setattr(routing, "STANDARDS_OOS_SKIP", 0.0)  # every report counts as "likely out of scope"
    assert tri.classify(text).standard_matches == []
    assert found, "the in-scope report should match an item when the skip is off"


def test_sector_ownership_follows_the_current_taxonomy(mini_triager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from triage.data import taxonomy_path

    raw = json.loads(taxonomy_path().read_text(encoding="utf-8"))
    for s in raw["sectors"]:
        if s["code"] == "fire_safety":
            s["department"] = "housing"  # an administrator moves 消防 to 住建
    f = tmp_path / "taxonomy.json"
    f.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    text = "小区楼道里堆满了纸箱，消防通道被堵死了"
    assert routing.Triager(mini_triager.art, with_standards=False).classify(text).department == "fire"
    monkeypatch.setenv("TRIAGE_TAXONOMY", str(f))
    moved = routing.Triager(mini_triager.art, with_standards=False).classify(text)
    assert moved.department == "housing" and moved.sector == "fire_safety"


def test_bad_review_threshold_env_does_not_break_routing(mini_triager, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIAGE_REVIEW_THRESHOLD", "not-a-number")
    tri = routing.Triager(mini_triager.art, with_standards=False)
    assert tri.review_threshold == mini_triager.art.review_threshold
    assert tri.classify("消防通道堵了").department is not None
