"""The blind index finds sealed reports by enterprise and keywords without storing any word.

Pure tests cover tokenisation and digests; the database tests run the real SQL (IN sub-selects,
composite key, cascade) on SQLite and on PostgreSQL, and dump the table to check no plaintext.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import models
from models import Department, Report
from models.search import SearchTerm
from secure_store import blind_index as bi
from tests.conftest import scratch_database

KEY = bi.derive_index_key(b"\x11" * 32)


def test_key_derivation_is_deterministic_and_separated() -> None:
    assert len(KEY) == 32 and KEY == bi.derive_index_key(b"\x11" * 32)
    assert KEY != bi.derive_index_key(b"\x12" * 32) and KEY != b"\x11" * 32


def test_traditional_and_simplified_give_the_same_terms() -> None:
    assert bi.terms("消防通道被堵") == bi.terms("消防通道被堵")
    assert bi.terms("倉庫的消防通道被貨物堵塞") == bi.terms("仓库的消防通道被货物堵塞")
    assert bi.terms("ＡＢＣ化工廠") == bi.terms("abc化工厂")  # full width + case
    assert "text:消防通道" in bi.terms("消防通道被堵") and "text:消防" in bi.terms("消防通道被堵")


def test_enterprise_suffixes_are_stripped_and_fields_prefixed() -> None:
    t = bi.terms("郑州宏达化工有限公司", field="enterprise")
    assert {"enterprise:郑州宏达化工有限公司", "enterprise:郑州宏达化工", "enterprise:宏达"} <= t
    assert all(x.startswith("enterprise:") for x in t)
    assert bi.compact_enterprise_names("鑫源 集团 股份有限公司") == ["鑫源集团股份有限公司", "鑫源"]
    assert bi.compact_enterprise_names("长葛·永兴纸厂") == ["长葛永兴纸厂", "长葛永兴纸"]
    assert bi.compact_enterprise_names("公司") == ["公司"]  # never stripped to nothing


def test_stopwords_and_single_characters_are_dropped() -> None:
    t = bi.terms("我们举报这个情况，他们已经没有消防通道了")
    assert t == {"text:消防", "text:通道", "text:消防通道"}
    assert bi.query_words("我们 举报 的") == [] and bi.query_digests(KEY, "了") == []
    with pytest.raises(ValueError):
        bi.terms("x", field="bad:field")


def test_digests_differ_between_keys_and_fields() -> None:
    assert len(bi.digest(KEY, "text:宏达")) == 16
    assert bi.digest(KEY, "text:宏达") != bi.digest(KEY, "enterprise:宏达")
    assert bi.digest(KEY, "text:宏达") != bi.digest(bi.derive_index_key(b"\x12" * 32), "text:宏达")
    groups = bi.query_digests(KEY, "宏达化工")
    assert groups == [
        (bi.digest(KEY, "text:宏达"), bi.digest(KEY, "enterprise:宏达")),
        (bi.digest(KEY, "text:化工"), bi.digest(KEY, "enterprise:化工")),
    ]


def test_max_terms_is_honoured_keeping_text_order() -> None:
    text = "，".join(["消防通道", "配电箱", "灭火器", "安全出口", "应急照明", "脚手架"])
    assert len(bi.terms(text, max_terms=3)) == 3
    assert bi.ordered_terms(text, max_terms=3) == ["text:消防", "text:通道", "text:消防通道"]
    assert bi.terms(text, max_terms=0) == set()
    big = "，".join(f"编号{i}号仓库" for i in range(600))
    assert len(bi.terms(big)) == 400
    assert len(bi.ordered_terms("郑州宏达化工有限公司", field="enterprise", max_terms=2)) == 2
    rows = bi.index_rows(KEY, 7, {"text": big, "enterprise": "郑州宏达化工有限公司"})
    assert 400 < len(rows) <= 800 and {r["report_id"] for r in rows} == {7}
    assert len({r["term"] for r in rows}) == len(rows)


# --- with a database ------------------------------------------------------------------------------

DOCS: dict[str, dict[str, str]] = {
    "A": {"text": "仓库的消防通道被货物堵塞，灭火器过期", "enterprise": "郑州宏达化工有限公司"},
    "B": {"text": "车间消防通道畅通，但是配电箱没有接地", "enterprise": "许昌鑫源矿业集团"},
    "C": {"text": "工地脚手架没有防护网，货物堵塞楼梯", "enterprise": "长葛市永兴建筑公司"},
}
WORDS = ["宏达", "化工", "郑州", "消防", "通道", "堵塞", "货物", "灭火器", "鑫源", "矿业", "配电箱",
         "脚手架", "永兴", "建筑", "仓库"]


def _engine(url: str) -> Engine:
    engine = create_engine(url)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _fk(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA foreign_keys=ON")

    return engine


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    with scratch_database(request.param, tmp_path, "bi.db") as url:
        engine = _engine(url)
        assert models.Base.metadata.tables["search_term"] is SearchTerm.__table__
        models.Base.metadata.create_all(engine)
        try:
            with Session(engine) as session:
                dept = Department(code="yjj", name="应急管理局", public_key=b"\x00" * 32, recovery_wrapped_key=b"x")
                session.add(dept)
                session.flush()
                for i, name in enumerate(DOCS):
                    session.add(Report(id=i + 1, number=f"AQ-{name}", receipt_locator=os.urandom(32),
                                       department_id=dept.id, sealed_content=b"sealed", sealed_triage=b"sealed",
                                       content_sha256="0" * 64, certificate_signature="sig", certificate_key_id="k"))
                session.flush()
                for i, fields in enumerate(DOCS.values()):
                    assert bi.reindex(session, KEY, i + 1, fields) > 0
                session.commit()
                session.info["url"] = url
                yield session
        finally:
            engine.dispose()


def _search(db: Session, query: str) -> set[str]:
    stmt = bi.apply_search(select(Report.number), KEY, query, Report.id)
    return {n.removeprefix("AQ-") for n in db.scalars(stmt)}


def test_search_by_enterprise_and_keywords(db: Session) -> None:
    assert _search(db, "宏达化工") == {"A"}
    assert _search(db, "郑州宏达化工有限公司") == {"A"}
    assert _search(db, "鑫源") == {"B"}
    assert _search(db, "消防通道") == {"A", "B"}
    assert _search(db, "消防通道 堵塞") == {"A"}  # AND: B lacks 堵塞, C lacks 消防通道
    assert _search(db, "堵塞") == {"A", "C"}
    assert _search(db, "爆炸") == set() and _search(db, "宏达 爆炸") == set()
    assert _search(db, "倉庫 貨物堵塞") == {"A"}  # traditional query, simplified text
    assert _search(db, "宏達化工") == {"A"}
    assert _search(db, "我们 举报") == {"A", "B", "C"}  # no usable word: statement unchanged


def test_reindex_replaces_and_cascade_deletes(db: Session) -> None:
    bi.reindex(db, KEY, 1, {"text": DOCS["A"]["text"], "enterprise": "郑州恒通化工有限公司"})
    db.commit()
    assert _search(db, "宏达") == set() and _search(db, "恒通化工") == {"A"}
    db.delete(db.get(Report, 3))
    db.commit()
    assert db.scalars(select(SearchTerm).where(SearchTerm.report_id == 3)).first() is None
    assert _search(db, "脚手架") == set()


def test_table_holds_no_plaintext(db: Session) -> None:
    pk = [c.name for c in SearchTerm.__table__.primary_key.columns]
    assert pk == ["term", "report_id"] and set(SearchTerm.__table__.columns.keys()) == set(pk)
    values = [bytes(t) for t in db.scalars(select(SearchTerm.term))]
    assert values and all(len(v) == 16 for v in values)
    dump = b"".join(values)
    for word in WORDS:
        for encoding in ("utf-8", "gb18030", "utf-16-le"):
            assert word.encode(encoding) not in dump, word
    url = db.info["url"]
    if url.startswith("sqlite"):
        db.close()
        raw = Path(url.removeprefix("sqlite:///")).read_bytes()
        for word in WORDS:
            assert word.encode("utf-8") not in raw, word
