"""A reporter files a report with a photo in Chromium, keeps the receipt, comes back and reads it.

Run without JavaScript (Tor Browser "safest") and with JavaScript (proof-of-work in a Web Worker).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import Env, jpeg_with_exif

pytestmark = pytest.mark.browser


def _photo(tmp_path: Path) -> str:
    p = tmp_path / "现场照片.jpg"
    p.write_bytes(jpeg_with_exif())
    return str(p)


def _file_report(d, live, photo: str, description: str) -> tuple[str, str]:
    d.get(live.url + "/report")
    # first attempt forgets the description: the error is at the field, the photo is kept
    Select(d.find_element(By.ID, "town")).select_by_visible_text("灵井镇")
    d.find_element(By.ID, "enterprise").send_keys("宏达木业")
    d.find_element(By.ID, "attachments").send_keys(photo)
    d.find_element(By.CSS_SELECTOR, "form.report button[type=submit]").click()
    WebDriverWait(d, 30).until(EC.presence_of_element_located((By.ID, "description-error")))
    assert "请填写发生了什么" in d.find_element(By.ID, "description-error").text
    assert d.find_element(By.ID, "enterprise").get_attribute("value") == "宏达木业"
    assert "现场照片.jpg" in d.find_element(By.CSS_SELECTOR, "fieldset.pending").text
    d.find_element(By.ID, "description").send_keys(description)
    d.find_element(By.CSS_SELECTOR, "form.report button[type=submit]").click()
    WebDriverWait(d, 60).until(EC.presence_of_element_located((By.ID, "receipt-code")))
    return d.find_element(By.ID, "report-number").text, d.find_element(By.ID, "receipt-code").text


def _come_back(d, live, receipt: str) -> str:
    d.delete_all_cookies()  # a new visit: nothing but the receipt
    d.get(live.url + "/follow-up")
    d.find_element(By.ID, "receipt").send_keys(receipt)
    d.find_element(By.CSS_SELECTOR, "form[data-pow] button[type=submit]").click()
    WebDriverWait(d, 60).until(EC.presence_of_element_located((By.ID, "status")))
    return d.find_element(By.TAG_NAME, "main").text


def test_reporter_without_javascript(env: Env, live, browser_nojs, tmp_path: Path) -> None:
    d = browser_nojs
    number, receipt = _file_report(d, live, _photo(tmp_path), "木业公司打磨车间粉尘很厚，除尘器没有泄爆片，工人说经常冒火星")
    assert number.startswith("AQ") and len(receipt.replace("-", "")) == 16
    page = _come_back(d, live, receipt)
    assert number in page and "粉尘很厚" in page and "现场照片.jpg" in page and "已提交，等待受理" in page
    # leave a message to the handler from the case page
    d.find_element(By.ID, "body").send_keys("补充：晚上十点以后也在生产")
    d.find_element(By.CSS_SELECTOR, "form[action$='/follow-up/message'] button").click()
    WebDriverWait(d, 30).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "p.notice"), "留言已发送"))
    assert "晚上十点以后也在生产" in d.find_element(By.CSS_SELECTOR, "ul.messages").text


@pytest.mark.pow_bits(12)
def test_reporter_with_javascript_solves_proof_of_work_in_a_worker(env: Env, live, browser_js, tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from models import PowSpent

    with env.db() as db:
        spent_before = db.scalar(select(func.count()).select_from(PowSpent))
    d = browser_js
    number, receipt = _file_report(d, live, _photo(tmp_path), "加油站卸油的时候有人在旁边抽烟打电话")
    page = _come_back(d, live, receipt)
    assert number in page and "加油站卸油" in page
    with env.db() as db:  # both the submission and the login carried a verified proof-of-work
        assert db.scalar(select(func.count()).select_from(PowSpent)) >= spent_before + 2
    assert not d.get_log("browser") or all("Content Security Policy" not in e["message"] for e in d.get_log("browser"))
