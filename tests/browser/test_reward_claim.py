"""An anonymous reporter claims a reward in Chromium with nothing but the receipt, and finance pays
it at the counter against the one-time claim code.

The reporter (no JavaScript, as in Tor Browser "safest") files anonymously and keeps the receipt.
The department proposes and approves the reward and finance approves it (domain calls: the
workbench browser journey covers those pages). On a fresh visit the reporter enters the receipt,
reads the notice, forgets the declaration once (refused at the field, the choice kept), claims at
the counter and is shown the claim code once. A finance officer, in a second Chromium, opens the
claim from the finance screen, and records the payment: a wrong code is refused at the field, the
right one pays. The reporter then sees the reward as paid.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import staff_browser_login
from tests.browser.test_handler_journey import _navigate, head_browser  # noqa: F401 (a second Chromium)
from tests.cases.conftest import add_member, approve_reward
from tests.conftest import Env

pytestmark = pytest.mark.browser
WAIT = 60


def _wait(d: Any) -> WebDriverWait:
    return WebDriverWait(d, WAIT)


def _file_anonymously(d: Any, live: Any) -> tuple[str, str]:
    d.get(live.url + "/report")
    d.find_element(By.ID, "description").send_keys("我在厂里上班，喷漆房的排风扇坏了一个月，油漆味很大，老板说不用修，怕起火")
    d.find_element(By.CSS_SELECTOR, "form.report button[type=submit]").click()
    _wait(d).until(EC.presence_of_element_located((By.ID, "receipt-code")))
    return d.find_element(By.ID, "report-number").text, d.find_element(By.ID, "receipt-code").text


def test_anonymous_reporter_claims_with_the_receipt_alone(env: Env, live, browser_nojs, head_browser) -> None:  # noqa: F811
    d = browser_nojs
    number, receipt = _file_anonymously(d, live)
    approve_reward(env, number, fine=30_000)

    # a new visit: nothing but the receipt
    d.delete_all_cookies()
    d.get(live.url + "/follow-up")
    d.find_element(By.ID, "receipt").send_keys(receipt)
    d.find_element(By.CSS_SELECTOR, "form[data-pow] button[type=submit]").click()
    _wait(d).until(EC.presence_of_element_located((By.ID, "reward")))
    notice = d.find_element(By.ID, "reward").text
    assert "奖励已核定" in notice and "5,500 元" in notice  # 15% of ¥30,000 = 4,500, internal uplift 675 → least 1,000
    form = d.find_element(By.ID, "claim-form")
    form.find_element(By.CSS_SELECTOR, "input[name=method][value=counter]").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    err = _wait(d).until(EC.visibility_of_element_located((By.ID, "declaration-error")))
    assert "不属于不得领取奖励的人员" in err.text
    form = d.find_element(By.ID, "claim-form")
    assert form.find_element(By.CSS_SELECTOR, "input[name=method][value=counter]").is_selected()  # the choice is kept
    form.find_element(By.ID, "declaration").click()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    code = _wait(d).until(EC.presence_of_element_located((By.ID, "claim-code"))).text
    assert len(code.replace(" ", "")) == 12 and "只显示这一次" in d.find_element(By.TAG_NAME, "main").text

    # finance pays at the counter against the code the claimant shows
    f = head_browser
    fin = add_member(env, "finance", "finance")
    staff_browser_login(f, live, fin, "举报奖励")
    link = _wait(f).until(EC.element_to_be_clickable((By.LINK_TEXT, number)))
    assert number in f.find_element(By.ID, "due").text
    _navigate(f, link.click)
    assert "喷漆" not in f.find_element(By.TAG_NAME, "main").text  # finance never sees the report
    amount = f.find_element(By.ID, "reward-amount").text.split()[0].replace(",", "")
    for name, value in (("voucher_no", f"现-{number}"), ("amount", amount), ("claim_code", "1234 5678 9012")):
        f.find_element(By.ID, name).send_keys(value)
    f.execute_script("arguments[0].value = arguments[1];", f.find_element(By.ID, "paid_on"), date.today().isoformat())
    _navigate(f, f.find_element(By.CSS_SELECTOR, "form[action$='/payout'] button[type=submit]").click)
    assert "领取码不正确" in _wait(f).until(EC.visibility_of_element_located((By.ID, "claim_code-error"))).text
    assert f.find_element(By.ID, "voucher_no").get_attribute("value") == f"现-{number}"
    f.find_element(By.ID, "claim_code").send_keys(code)
    _navigate(f, f.find_element(By.CSS_SELECTOR, "form[action$='/payout'] button[type=submit]").click)
    _wait(f).until(EC.text_to_be_present_in_element((By.ID, "reward-status"), "已支付"))

    # the reporter sees it paid
    d.find_element(By.CSS_SELECTOR, "form[action$='/follow-up/view'] button").click()
    _wait(d).until(EC.text_to_be_present_in_element((By.ID, "reward-status"), "已支付"))
