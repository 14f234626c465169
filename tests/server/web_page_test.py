#!/usr/bin/env python3
"""The web chat page in headless Chromium (selenium): it loads from `trapetum serve`, shows the
model's name, streams an answer to a message into the page, keeps a second turn, and the stop
button ends a long answer. A screenshot is saved as the test's artifact.

Usage: web_page_test.py --cli PATH --shared DIR --out DIR   (skips without chromium, selenium
or ../shared, unless CI=true, where a missing browser is a failure)"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    model = os.path.join(a.shared, "models/stories260K/stories260K.gguf")
    if not os.path.exists(model):
        print("skip: ../shared not present")
        return 0
    try:
        from selenium import webdriver
        from selenium.webdriver.common.by import By
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        print("skip: selenium not installed")
        return 1 if os.environ.get("CI") == "true" else 0
    driver_path = shutil.which("chromedriver")
    if not driver_path or not shutil.which("chromium"):
        print("skip: chromium or chromedriver not installed")
        return 1 if os.environ.get("CI") == "true" else 0

    proc = subprocess.Popen([a.cli, "serve", "-m", model, "--port", "0", "-t", "1", "-c", "2048", "--parallel", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = None
    for line in proc.stderr:
        m = re.search(r"on http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    if not port:
        print("FAIL: server did not start")
        return 1
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    opts = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1000,800"):
        opts.add_argument(flag)
    opts.binary_location = shutil.which("chromium")
    browser = webdriver.Chrome(service=Service(driver_path), options=opts)
    fails = []
    try:
        browser.get(f"http://127.0.0.1:{port}/#max_tokens=40")
        wait = WebDriverWait(browser, 60)
        wait.until(lambda b: b.find_element(By.ID, "model").text == "stories260K.gguf")

        def send(text):
            box = browser.find_element(By.ID, "input")
            box.clear()
            box.send_keys(text)
            browser.find_element(By.ID, "send").click()

        def answers():
            return browser.find_elements(By.CSS_SELECTOR, ".msg.assistant")

        send("Once upon a time")
        wait.until(lambda b: len(answers()) == 1 and answers()[0].get_attribute("data-done") == "1")
        first = answers()[0].text
        if not first.strip():
            fails.append("the first answer is empty")
        send("Tell me more")
        wait.until(lambda b: len(answers()) == 2 and answers()[1].get_attribute("data-done") == "1")
        if len(browser.find_elements(By.CSS_SELECTOR, ".msg.user")) != 2:
            fails.append("two user turns are not both shown")
        if not re.search(r"[\d.]+ tok/s", browser.find_element(By.ID, "speed").text):
            fails.append(f"no tok/s shown: {browser.find_element(By.ID, 'speed').text!r}")
        browser.save_screenshot(os.path.join(a.out, "web_page.png"))
        # The stop button: a long third answer is cut short and the page is ready again.
        browser.get("about:blank")  # a fresh page: changing the fragment alone would not reload it
        browser.get(f"http://127.0.0.1:{port}/#max_tokens=1900")
        wait.until(lambda b: b.find_element(By.ID, "model").text == "stories260K.gguf")
        send("Write a very long story about a dragon")
        WebDriverWait(browser, 60, poll_frequency=0.02).until(lambda b: len(answers()) == 1 and answers()[0].text.strip())
        browser.find_element(By.ID, "stop").click()
        wait.until(lambda b: answers()[0].get_attribute("data-done") == "1" and b.find_element(By.ID, "send").is_enabled())
        # Once stopped, the answer no longer grows (the server side of a dropped stream is
        # tested by server_test.py's disconnect storms).
        stopped = answers()[0].text
        time.sleep(0.5)
        if answers()[0].text != stopped:
            fails.append("the answer kept growing after Stop")
        errors = browser.find_elements(By.CSS_SELECTOR, ".msg.error")
        if errors:
            fails.append(f"the page shows an error: {errors[0].text!r}")
    except Exception as e:  # a timeout or a missing element
        fails.append(f"{type(e).__name__}: {e}")
        browser.save_screenshot(os.path.join(a.out, "web_page_failure.png"))
    finally:
        browser.quit()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    for f in fails:
        print("FAIL:", f)
    print(f"web_page_test: {len(fails)} failures; screenshot in {a.out}")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
