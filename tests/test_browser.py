"""The UI as a person meets it: headless Chromium (Debian's chromium + chromium-driver) drives the
chat and the partner briefing of a real `sstc serve`, and saves screenshots under out/screenshots/."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = ROOT / "out" / "screenshots"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
        reason="headless Chromium is not installed (apt-get install chromium chromium-driver; .ci/run does it)",
    ),
]


@pytest.fixture(scope="module")
def server(served_ui) -> str:
    return served_ui.url


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _wait(driver, css: str, timeout: float = 60, text: str | None = None):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, timeout)
    if text:
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def test_chat_answers_with_a_citation_chip_and_sources(server: str, browser) -> None:
    from selenium.webdriver.common.keys import Keys

    browser.get(server + "/")
    box = _wait(browser, "#question textarea")
    box.send_keys("In what year did UNOSSC initiate the Cities Project?", Keys.ENTER)
    chip = _wait(browser, "#chat a.chip")
    assert chip.text == "[1]"
    _wait(browser, "#sources", text="2017")
    chip.click()
    source = _wait(browser, "#src-1")
    assert "2017" in source.text and "p. 1" in source.text
    assert source.find_element("css selector", "mark").text.startswith("In 2017")
    plain = _wait(browser, "#plain textarea")
    assert "[1]" in plain.get_attribute("value")
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / "chat.png"))


def test_feedback_with_a_comment_is_saved(server: str, served_ui, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server + "/")
    _wait(browser, "#question textarea").send_keys(
        "Which pilot project proposals will be prioritized?", Keys.ENTER
    )
    _wait(browser, "#chat a.chip")
    browser.find_element(By.CSS_SELECTOR, "#rating input[value='down']").click()
    _wait(browser, "#comment textarea").send_keys("Please cite the resolution too.")
    _wait(browser, "#send-feedback").click()
    deadline = time.time() + 30
    while time.time() < deadline and "Please cite" not in (
        served_ui.feedback.read_text(encoding="utf-8") if served_ui.feedback.exists() else ""
    ):
        time.sleep(0.2)
    record = json.loads(served_ui.feedback.read_text(encoding="utf-8").splitlines()[-1])
    assert record["rating"] == "down" and record["comment"] == "Please cite the resolution too."
    assert "prioritized" in record["answer"] and record["citations"]


def test_partner_briefing_for_an_arab_states_municipality(server: str, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server + "/")
    _wait(browser, "button[role='tab']")
    tab = next(t for t in browser.find_elements(By.CSS_SELECTOR, "button[role='tab']") if "Join" in t.text)
    tab.click()
    region = _wait(browser, "#region input")
    region.click()
    region.send_keys(Keys.CONTROL, "a")
    region.send_keys("Arab States")
    region.send_keys(Keys.ENTER)
    theme = browser.find_element(By.CSS_SELECTOR, "#themes input[name='technology transfer']")
    theme.click()
    _wait(browser, "#brief").click()
    report = _wait(browser, "#briefing", timeout=120, text="Arab States")
    assert "Partners from your region" in report.text and "[1]" in report.text
    SHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SHOTS / "briefing.png"))
