"""The coordinating office and the auditors in Chromium.

A coordinator (JavaScript off) finds a report nobody could route in the queue, dispatches it to the
fire brigade with a written reason, and puts a fire-brigade case under supervision (挂牌督办).
An auditor (JavaScript on) opens a case and sees its handling but not its content, verifies the
audit chain, and reads the reward screens without being offered any action.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import staff_browser_login
from tests.browser.test_handler_journey import _done, _navigate, _open_from_queue, _section, _wait
from tests.cases.conftest import add_member, file_to
from tests.conftest import Env

pytestmark = pytest.mark.browser


def test_coordinator_dispatches_and_supervises(env: Env, live, browser_nojs, monkeypatch: pytest.MonkeyPatch) -> None:
    unrouted = file_to(env, monkeypatch, None, text="我们村口那个厂子晚上偷偷生产，味道很冲，不知道归谁管")
    fire_case = file_to(env, monkeypatch, "fire", text="商场安全出口被锁，消防通道堆满杂物")
    d = browser_nojs
    staff_browser_login(d, live, add_member(env, "coordinator", "coordination"), "案件队列")
    _open_from_queue(d, unrouted)
    assert "偷偷生产" in d.find_element(By.ID, "report-content").text  # the office reads every report
    s = _section(d, "transfer")
    Select(s.find_element(By.NAME, "to_department")).select_by_value("fire")
    _navigate(d, s.find_element(By.CSS_SELECTOR, "button[type=submit]").click)  # no reason: refused at the field
    assert "理由" in _wait(d).until(EC.visibility_of_element_located((By.ID, "reason-error"))).text
    s = d.find_element(By.ID, "act-transfer")
    assert Select(s.find_element(By.NAME, "to_department")).first_selected_option.get_attribute("value") == "fire"
    s.find_element(By.NAME, "reason").send_keys("夜间违规生产，疑似涉及消防安全，由消防救援大队核查")
    _done(d, s, "已移送", "待受理")
    assert "区消防救援大队" in d.find_element(By.TAG_NAME, "main").text

    _navigate(d, d.find_element(By.LINK_TEXT, "案件队列").click)
    _open_from_queue(d, fire_case)
    s = _section(d, "supervise")
    due = (date.today() + timedelta(days=20)).isoformat()
    d.execute_script("arguments[0].value = arguments[1];", s.find_element(By.NAME, "due"), due)
    _navigate(d, s.find_element(By.CSS_SELECTOR, "button[type=submit]").click)
    _wait(d).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "p.notice"), "已挂牌督办"))
    assert f"督办期限 {due}" in d.find_element(By.CSS_SELECTOR, ".banner-sup").text


def test_auditor_reads_but_never_decrypts(env: Env, live, browser_js, monkeypatch: pytest.MonkeyPatch) -> None:
    number = file_to(env, monkeypatch, "fire", text="加油站油罐区有人用手机还抽烟，审计员不应看到这句")
    d = browser_js
    staff_browser_login(d, live, add_member(env, "auditor", None), "案件队列")
    _open_from_queue(d, number)
    main = d.find_element(By.TAG_NAME, "main").text
    assert "审计员不应看到这句" not in main and "不能查看举报内容" in main
    assert not d.find_elements(By.CSS_SELECTOR, "details.action")  # no action forms at all
    _navigate(d, d.find_element(By.LINK_TEXT, "审计日志").click)
    _navigate(d, d.find_element(By.XPATH, "//button[contains(., '核验整条日志')]").click)
    assert "核验通过" in _wait(d).until(EC.presence_of_element_located((By.ID, "audit-verify"))).text
    _navigate(d, d.find_element(By.LINK_TEXT, "举报奖励").click)
    assert "（只读）" in d.find_element(By.TAG_NAME, "h1").text
    assert not d.find_elements(By.ID, "budget-form")
