"""Real-browser helpers for the UI and widget tests: Debian's Chromium through selenium,
the UI started the way `make run` starts it (`brand-assistant ui`), and a scan of the
rendered page for English text."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, stop_process, wait_for_http

ARTIFACTS = ROOT / "test-artifacts"
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}

# Visible text of every element (not scripts or styles, not Streamlit's icon-font glyphs,
# whose text is a ligature name such as "keyboard_arrow_down"), with the title and
# placeholder attributes of visible elements: what a user can read.
SCAN_JS = r"""
const out = [];
function visible(el) {
  const r = el.getBoundingClientRect();
  const s = getComputedStyle(el);
  // off the page (a skip link parked at left: -9999px until it is focused) is not read either
  const off = r.right + scrollX <= 0 || r.bottom + scrollY <= 0 || s.clipPath === 'inset(50%)';
  return r.width > 1 && r.height > 1 && !off && s.visibility !== 'hidden' && s.display !== 'none' && s.opacity !== '0';
}
function walk(doc) {
  const w = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = w.nextNode())) {
    const p = n.parentElement;
    if (!p || ['SCRIPT', 'STYLE', 'NOSCRIPT'].includes(p.tagName)) continue;
    if (p.closest('[data-testid="stIconMaterial"], .material-icons, .material-symbols-rounded')) continue;
    const t = n.textContent.trim();
    if (t && visible(p)) out.push(t);
  }
  for (const el of doc.querySelectorAll('[title], [placeholder]')) {
    if (!visible(el)) continue;
    for (const a of ['title', 'placeholder']) { const v = el.getAttribute(a); if (v) out.push(v); }
  }
}
walk(document);
for (const f of document.querySelectorAll('iframe')) {
  try { if (f.contentDocument && f.contentDocument.body) walk(f.contentDocument); } catch (e) {}
}
return out;
"""
_WORD = re.compile(r"[A-Za-z]{2,}")


def chromium_paths() -> tuple[str, str]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("chromium/chromedriver not installed (scripts/setup.sh installs them with apt)")
    return chromium, driver


def make_browser(size: str, profile: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = chromium_paths()
    w, h = SIZES[size]
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--lang=zh-CN", f"--window-size={w},{h}",
                 f"--user-data-dir={ARTIFACTS / 'chrome-profiles' / profile}"):
        opts.add_argument(flag)
    if size == "phone":
        opts.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": w, "height": h,
                                                                           "pixelRatio": 1.0}})
    browser = webdriver.Chrome(service=Service(driver), options=opts)
    if size != "phone":  # the viewport itself, not the window around it
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": False})
    return browser


def start_ui(env: dict, port: int | None = None, warm: bool = True) -> tuple[subprocess.Popen, str]:
    """`brand-assistant ui` (the index warms while the server starts) as a process group."""
    port = port or free_port()
    exe = Path(sys.executable).parent / "brand-assistant"
    args = [str(exe), "ui", "--port", str(port)] + ([] if warm else ["--no-warm"])
    proc = subprocess.Popen(args, env={**os.environ, **env}, cwd=str(ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    if not wait_for_http(f"{url}/_stcore/health", 90, interval=0.5):
        stop_process(proc)
        raise RuntimeError("the Streamlit UI did not start")
    return proc, url


def english(browser, allowed: set[str]) -> list[str]:
    """Pieces of visible text with a Latin word that is not on the allow-list."""
    bad = []
    for text in browser.execute_script(SCAN_JS):
        words = [w for w in _WORD.findall(text) if w not in allowed and w.lower() not in allowed]
        if words:
            bad.append(text[:120])
    return sorted(set(bad))


def corpus_words(corpus) -> set[str]:
    """The Latin words the documents themselves use (content, not chrome): shown quotes and
    headings may carry them (NQI, ISO, GB/T…)."""
    words: set[str] = set()
    for d in corpus.documents.values():
        words.update(_WORD.findall("\n".join(d.source_lines)))
        words.update(_WORD.findall(d.spec.code or ""))
    return words


def wait_text(browser, text: str, seconds: float = 60) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, seconds, poll_frequency=0.25).until(lambda b: text in b.find_element("tag name", "body").text)


def settle(browser, seconds: float = 30) -> None:
    """Until Streamlit has finished its script run (the app's stale-element fade is gone)."""
    deadline = time.time() + seconds
    time.sleep(0.4)
    while time.time() < deadline:
        running = browser.execute_script(
            "return !!document.querySelector('[data-testid=\"stStatusWidget\"] button, .stSpinner, "
            "[data-stale=\"true\"]')")
        if not running:
            time.sleep(0.3)
            return
        time.sleep(0.25)


def shot(browser, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path
