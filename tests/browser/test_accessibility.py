"""Accessibility basics of the public pages, checked in Chromium: the language is declared, every
form control has a label, images have text alternatives, text contrast meets WCAG AA (4.5:1, large
text 3:1) as the browser computes it, field errors are tied to their fields, and the report form
can be completed with the keyboard alone, with a visible focus ring on every stop."""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser
PAGES = ["/", "/report", "/follow-up", "/protections"]

AUDIT_JS = r"""
const problems = [];
if (!document.documentElement.lang.startsWith('zh')) problems.push('html lang');
for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
  if (el.offsetParent === null && el.type !== 'file') continue;          // not rendered (honeypot)
  const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest('label')
      || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
  if (!labelled) problems.push('no label: ' + (el.name || el.id));
}
for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) problems.push('img without alt');
function rgb(s) { const m = s.match(/[\d.]+/g).map(Number); return m.length > 3 && m[3] === 0 ? null : m.slice(0, 3); }
function lum(c) { const v = c.map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; }
function bg(el) { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c) return c; }
  return [255, 255, 255]; }
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const seen = new Set();
while (walker.nextNode()) {
  const el = walker.currentNode.parentElement;
  if (!walker.currentNode.textContent.trim() || seen.has(el) || el.offsetParent === null) continue;
  seen.add(el);
  const st = getComputedStyle(el);
  const fg = rgb(st.color), b = bg(el);
  const ratio = (Math.max(lum(fg), lum(b)) + 0.05) / (Math.min(lum(fg), lum(b)) + 0.05);
  const large = parseFloat(st.fontSize) >= 24 || (parseFloat(st.fontSize) >= 18.66 && parseInt(st.fontWeight) >= 700);
  if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)} on "${walker.currentNode.textContent.trim().slice(0, 20)}"`);
}
return problems;
"""


@pytest.mark.parametrize("path", PAGES)
def test_public_page_basics(live, browser_js, path: str) -> None:
    d = browser_js
    d.get(live.url + path)
    WebDriverWait(d, 30).until(EC.presence_of_element_located((By.TAG_NAME, "main")))
    assert d.execute_script(AUDIT_JS) == []


def test_field_errors_are_announced_and_tied_to_their_field(live, browser_nojs) -> None:
    d = browser_nojs
    d.get(live.url + "/report")
    d.find_element(By.CSS_SELECTOR, "form.report button[type=submit]").click()
    err = WebDriverWait(d, 30).until(EC.presence_of_element_located((By.ID, "description-error")))
    assert err.get_attribute("role") == "alert"
    field = d.find_element(By.ID, "description")
    assert field.get_attribute("aria-invalid") == "true" and "description-error" in field.get_attribute("aria-describedby")
    assert d.execute_script(AUDIT_JS) == []  # the error state keeps contrast and labels


def test_report_form_by_keyboard_alone(live, browser_js) -> None:
    d: Any = browser_js
    d.get(live.url + "/report")
    WebDriverWait(d, 30).until(EC.presence_of_element_located((By.ID, "description")))
    keys = lambda *k: ActionChains(d).send_keys(*k).perform()  # noqa: E731 — the keyboard, not element APIs
    keys(Keys.TAB)
    assert d.switch_to.active_element.get_attribute("class") == "skip"  # the first stop skips to the content
    stops, reached_description = 0, False
    while stops < 80:
        keys(Keys.TAB)
        stops += 1
        el = d.switch_to.active_element
        outline = d.execute_script("const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth];", el)
        assert outline[0] != "none" and outline[1] != "0px", el.get_attribute("outerHTML")[:120]
        if el.get_attribute("id") == "description":
            reached_description = True
            keys("键盘操作测试：楼道里堆满了电动车电池在充电")
        if el.tag_name == "button" and el.get_attribute("type") == "submit" and reached_description:
            keys(Keys.ENTER)
            break
    WebDriverWait(d, 60).until(EC.presence_of_element_located((By.ID, "receipt-code")))
