"""A fire-department handler works a case in Chromium from the queue to 销号 and 办结.

The handler (JavaScript on) logs in with password and TOTP, opens the report from the queue, reads
the decrypted description, accepts it, checks it, records the conclusion and a fine, orders
rectification (五落实; a first attempt without 责任人 is refused at the field with the typed values
kept), replies to the reporter and records a passed inspection. The department head, in a second
browser without JavaScript, signs the case off (验收销号); the handler then closes it (办结).
Handler and head are different users, each logs in once, so no TOTP step is ever reused.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pyotp
import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import ARTIFACTS, _driver
from tests.cases.conftest import Member, add_member, file_to
from tests.conftest import Env

pytestmark = pytest.mark.browser

WAIT = 30
DESCRIPTION = "宏达仓储公司仓库消防通道被货物堵死，灭火器全部过期"
ENTERPRISE = "宏达仓储有限公司"


@pytest.fixture
def head_browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A second, independent Chromium (no JavaScript) for the department head; its own screenshot."""
    d = _driver(javascript=False)
    yield d
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "") + "-head"
        d.save_screenshot(str(ARTIFACTS / f"{name}.png"))
        (ARTIFACTS / f"{name}.html").write_text(d.page_source, encoding="utf-8")
    d.quit()


def _wait(d: Any) -> WebDriverWait:
    return WebDriverWait(d, WAIT)


def _gone(old: Any) -> Any:
    """EC.staleness_of, also accepting chromedriver's "node does not belong to the document"
    (what it sometimes answers, instead of a stale reference, for a node of the page just left)."""
    def check(_: Any) -> bool:
        try:
            old.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc) or "No node with given id" in str(exc):
                return True
            raise
    return check


def _navigate(d: Any, click: Any) -> None:
    """Click something that loads a new page and wait until the old document is gone."""
    old = d.find_element(By.TAG_NAME, "html")
    click()
    _wait(d).until(_gone(old))
    _wait(d).until(EC.presence_of_element_located((By.ID, "main")))


def _login(d: Any, live: Any, m: Member) -> None:
    d.get(live.url + "/staff/login")
    _wait(d).until(EC.presence_of_element_located((By.ID, "username"))).send_keys(m.username)
    d.find_element(By.ID, "password").send_keys(m.password)
    _navigate(d, d.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click)
    assert d.current_url.endswith("/staff/login/code"), d.current_url
    _wait(d).until(EC.presence_of_element_located((By.ID, "code"))).send_keys(pyotp.TOTP(m.totp).now())
    _navigate(d, d.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click)
    _wait(d).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "案件队列"))
    assert m.username in d.find_element(By.CSS_SELECTOR, "header .who").text


def _open_from_queue(d: Any, number: str) -> None:
    """Find the report in the queue (narrowed by the number filter) and click through to it."""
    box = d.find_element(By.CSS_SELECTOR, "form.filters input[name=number]")
    box.clear()
    box.send_keys(number)
    _navigate(d, d.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click)
    link = _wait(d).until(EC.element_to_be_clickable((By.LINK_TEXT, number)))
    _navigate(d, link.click)
    _wait(d).until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), number))


def _section(d: Any, action: str) -> Any:
    """The <details id="act-ACTION"> of the case page, opened by clicking its summary if closed."""
    details = _wait(d).until(EC.presence_of_element_located((By.ID, f"act-{action}")))
    if details.get_attribute("open") is None:
        details.find_element(By.TAG_NAME, "summary").click()
        _wait(d).until(lambda _: details.get_attribute("open") is not None)
    return details


def _fill(section: Any, name: str, text: str) -> None:
    field = section.find_element(By.NAME, name)
    field.clear()
    field.send_keys(text)


def _choose(section: Any, name: str, value: str) -> None:
    box = section.find_element(By.CSS_SELECTOR, f"input[name={name}][value={value}]")
    box.click()
    assert box.is_selected()


def _tick(section: Any, name: str) -> None:
    box = section.find_element(By.CSS_SELECTOR, f"input[type=checkbox][name={name}]")
    if not box.is_selected():
        box.click()
    assert box.is_selected()


def _submit(d: Any, section: Any) -> None:
    _navigate(d, section.find_element(By.CSS_SELECTOR, "form button[type=submit]").click)


def _done(d: Any, section: Any, notice: str, status: str) -> None:
    """Submit an action form and wait for the redirect's notice and the new status."""
    _submit(d, section)
    _wait(d).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "p.notice"), notice))
    _wait(d).until(EC.text_to_be_present_in_element((By.ID, "case-status"), status))
    assert not d.find_elements(By.CSS_SELECTOR, ".error-summary")


def _status(d: Any) -> str:
    return d.find_element(By.ID, "case-status").text.strip()


def test_handler_works_case_to_sign_off_and_close(env: Env, live, browser_js, head_browser,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    handler = add_member(env, "handler", "fire")
    head = add_member(env, "head", "fire")
    number = file_to(env, monkeypatch, "fire", text=DESCRIPTION, urgency="high", enterprise=ENTERPRISE)
    deadline = (date.today() + timedelta(days=45)).isoformat()

    # --- the handler: queue → case page with the decrypted report ---------------------------------
    d = browser_js
    _login(d, live, handler)
    _open_from_queue(d, number)
    _wait(d).until(EC.text_to_be_present_in_element((By.ID, "report-content"), DESCRIPTION))
    assert ENTERPRISE in d.find_element(By.CSS_SELECTOR, "main").text
    assert _status(d) == "待受理"

    # 受理, 开始核查
    _done(d, _section(d, "accept"), "已受理", "已受理")
    _done(d, _section(d, "start_check"), "已开始核查", "核查中")

    # 核查完毕: 属实 · 重大事故隐患 · 罚款 10000
    s = _section(d, "finish_check")
    _choose(s, "conclusion", "confirmed")
    _choose(s, "hazard_level", "major")
    _fill(s, "enterprise_name", ENTERPRISE)
    _fill(s, "summary", "现场核查：仓库东侧消防通道被成品货物堵塞，12具灭火器均已过期，情况属实。")
    _tick(s, "decision_fine")
    _fill(s, "amount_fine", "10000")
    _done(d, s, "已登记核查结论", "核查完毕")
    main = d.find_element(By.TAG_NAME, "main").text
    assert "属实 · 重大事故隐患 · " + ENTERPRISE in main
    assert "罚款 10,000 元" in main

    # 责令整改 (五落实): first without 责任人 — refused at the field, everything typed is kept
    plan = {"plan_measures": "立即清理消防通道货物，更换全部过期灭火器，设置通道禁止堆放标识",
            "plan_funds": "企业自筹2万元", "plan_contingency": "整改期间安排专人值守，配备临时灭火器材"}
    s = _section(d, "rectify")
    for name, text in plan.items():
        _fill(s, name, text)
    d.execute_script("arguments[0].value = arguments[1];", s.find_element(By.NAME, "plan_deadline"), deadline)
    _submit(d, s)
    err = _wait(d).until(EC.visibility_of_element_located((By.ID, "plan_responsible-error")))
    assert "五落实不完整：请填写责任人" in err.text
    assert "五落实不完整：请填写责任人" in d.find_element(By.CSS_SELECTOR, ".error-summary").text
    assert _status(d) == "核查完毕"
    s = d.find_element(By.ID, "act-rectify")
    assert s.get_attribute("open") is not None  # the refused section comes back open
    for name, text in plan.items():
        assert s.find_element(By.NAME, name).get_attribute("value") == text
    assert s.find_element(By.NAME, "plan_deadline").get_attribute("value") == deadline
    assert s.find_element(By.NAME, "plan_responsible").get_attribute("value") == ""
    _fill(s, "plan_responsible", "仓库主任 王某")
    _done(d, s, "已下达整改要求", "整改中")
    main = d.find_element(By.TAG_NAME, "main").text
    assert "仓库主任 王某" in main and deadline in main

    # 答复举报人 (处理决定 + 符合奖励条件: 是)
    s = _section(d, "reply")
    _fill(s, "decision", "责令限期整改，对该企业处以罚款1万元。")
    _choose(s, "reward_eligible", "yes")
    _done(d, s, "已答复举报人", "整改中")
    assert not d.find_elements(By.ID, "act-reply")

    # 登记整改复查: 验收合格
    s = _section(d, "inspection")
    _choose(s, "result", "passed")
    _fill(s, "note", "复查：消防通道已清空，灭火器已全部更换。")
    _done(d, s, "已登记复查", "整改中")
    assert "验收合格" in d.find_element(By.TAG_NAME, "main").text
    assert not d.find_elements(By.ID, "act-sign_off")  # 销号 is the head's
    assert not d.find_elements(By.ID, "act-close")  # not before 销号

    # --- the head, in a second browser without JavaScript: 验收销号 --------------------------------
    h = head_browser
    _login(h, live, head)
    _open_from_queue(h, number)
    assert _status(h) == "整改中"
    _done(h, _section(h, "sign_off"), "已验收销号", "已验收销号")

    # --- the handler again (same session, no second login): 办结 ------------------------------------
    _navigate(d, d.refresh)
    _wait(d).until(EC.text_to_be_present_in_element((By.ID, "case-status"), "已验收销号"))
    _done(d, _section(d, "close"), "已办结", "已办结")
    assert _status(d) == "已办结"
    assert not d.find_elements(By.ID, "act-close")

    from sqlalchemy import select

    from models import Report

    with env.db() as db:
        report = db.scalar(select(Report).where(Report.number == number))
        assert report is not None and report.status == "closed"
        assert report.case is not None and report.case.reward_eligible is True
        assert report.case.signed_off_by == head.user_id
