#!/usr/bin/python3 -B
"""check.py - `make check-site`: every page of the site in a real browser.

    check.py SITE SHOTS

Debian's Chromium, headless, driven by Debian's chromedriver and
python3-selenium (no browser downloaded: make deps installs the three),
loads every page of SITE from file:// and fails, naming the page, on:
  - a console error (the browser's log, level SEVERE);
  - a request that left the site: every resource a page loads must be a
    file of the site (no network at read time);
  - a missing image (not loaded, or no width), inline pictures included;
  - a dead link or anchor: a link to a page of the site that does not
    exist, or to an id that page does not have (outbound links, http and
    https, are allowed and not followed);
  - a page without its parts: a title; a walkthrough without its code
    side by side, highlighted, with as many snippet blocks as its Markdown
    has snippet markers, and without every timeline the build made for its
    lesson; the index without the lifecycle and a row per walkthrough; the
    lifecycle page without its diagram; the API map without its tables;
    a source page without its code;
  - at 390 pixels wide, a page wider than the screen (only code blocks and
    pictures may scroll sideways, inside themselves).
It writes a screenshot of each page but the source pages at 1280 and at
390 pixels wide (the whole page, up to 12,000 pixels down) into SHOTS, and
loads the index and a walkthrough again from a static server on 127.0.0.1
(a port the kernel picks), to show the site works from one too.
Every wait is for an event of the page (its load, its images), not a sleep.
"""

import functools
import http.server
import os
import re
import shutil
import sys
import tempfile
import threading
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
WIDTHS = {"1280": (1280, 900, False), "390": (390, 844, True)}
MAX_SHOT = 12000

FACTS = """
const abs = (a) => a.href && a.href.baseVal !== undefined ? new URL(a.href.baseVal, document.baseURI).href
                                                          : (a.href || '');
const imgs = Array.from(document.images).map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0}));
return {
  title: (document.querySelector('h1') || {}).textContent || '',
  ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id)
        .concat(Array.from(document.querySelectorAll('a[name]')).map(e => e.getAttribute('name'))),
  links: Array.from(document.querySelectorAll('a')).map(abs).filter(h => h),
  images: imgs,
  svgs: document.querySelectorAll('svg').length,
  resources: performance.getEntriesByType('resource').map(r => r.name),
  pairs: Array.from(document.querySelectorAll('.pair')).filter(p => !p.closest('.timeline')).length,
  pairs_ok: Array.from(document.querySelectorAll('.pair')).filter(p => !p.closest('.timeline')).every(p =>
        p.querySelectorAll(':scope > .side').length == 2 &&
        Array.from(p.querySelectorAll(':scope > .side')).every(s => s.querySelector('pre'))),
  snippets: document.querySelectorAll('.snippet').length,
  highlighted: document.querySelectorAll('pre.sourceCode span').length,
  pres: Array.from(document.querySelectorAll('pre')).filter(p => p.textContent.trim().length > 0).length,
  timeline_imgs: Array.from(document.querySelectorAll('.timeline img')).map(i => i.currentSrc || i.src),
  tables: document.querySelectorAll('table').length,
  rows: document.querySelectorAll('article table tbody tr').length,
  edges: document.querySelectorAll('.lifecycle svg g.edge').length,
  width: document.documentElement.scrollWidth,
};
"""


def start_browser(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--hide-scrollbars", "--user-data-dir=" + profile, "--window-size=1280,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(180)
    driver.set_script_timeout(60)
    return driver


def emulate(driver, width, height, mobile):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def load(driver, url):
    """Open url; return when its load event has fired and its images are
    in (or failed)."""
    driver.get(url)
    WebDriverWait(driver, 120).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && "
        "Array.from(document.images).every(i => i.complete)"))


def screenshot(driver, path, width):
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    height = min(int(size["height"]) + 1, MAX_SHOT)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    import base64
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def console_errors(driver):
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def page_kind(rel):
    if re.match(r"^docs/lessons/\d\d-[^/]*\.html$", rel):
        return "walkthrough"
    if rel in ("index.html", "lifecycle.html", "api-map.html"):
        return rel[:-5]
    if re.search(r"\.[a-z]+\.html$", rel) or rel.endswith("Makefile.html"):
        return "source"
    return "page"


def expectations(site, root, rel, facts):
    """What a page of this kind must hold; a list of problems."""
    problems = []
    kind = page_kind(rel)
    if not facts["title"].strip():
        problems.append("no title (h1)")
    if kind == "walkthrough":
        md = os.path.join(root, rel[:-5] + ".md")
        markers = written = 0
        if os.path.exists(md):
            with open(md) as f:
                lines = f.read().splitlines()
            markers = sum(1 for line in lines if line.startswith("<!-- snippet: "))
            written = sum(1 for line in lines
                          if line in ("**event1**", "<tr><th>event1</th><th>event2</th></tr>"))
        if facts["snippets"] != markers:
            problems.append("%d snippet blocks, the Markdown has %d" % (facts["snippets"], markers))
        # Pairs as many as the Markdown writes (lesson 20 shows bug and fix
        # instead); each with code in both columns.
        if facts["pairs"] != written or not facts["pairs_ok"]:
            problems.append("%d pairs of event1/event2 code side by side, the Markdown has %d"
                            % (facts["pairs"], written))
        if facts["highlighted"] == 0:
            problems.append("no highlighted code")
        slug = os.path.basename(rel)[:-5]
        made = sorted(os.listdir(os.path.join(site, "img", "timelines", slug))) \
            if os.path.isdir(os.path.join(site, "img", "timelines", slug)) else []
        shown = sorted(os.path.basename(urllib.parse.urlparse(u).path) for u in facts["timeline_imgs"])
        if not made:
            problems.append("the build made no timeline for it")
        if [m for m in made if m not in shown]:
            problems.append("timelines not shown: " + ", ".join(m for m in made if m not in shown))
    elif kind == "index":
        if not any(i["src"].endswith("img/lifecycle.svg") for i in facts["images"]):
            problems.append("no lifecycle picture")
        walks = [f for f in os.listdir(os.path.join(site, "docs", "lessons")) if f.endswith(".html")]
        linked = {os.path.basename(urllib.parse.urlparse(l).path) for l in facts["links"]}
        missing = [w for w in walks if w not in linked]
        if missing:
            problems.append("no row for " + ", ".join(missing))
    elif kind == "lifecycle":
        if facts["edges"] < 6:
            problems.append("the lifecycle diagram has %d transitions" % facts["edges"])
    elif kind == "api-map":
        if facts["tables"] < 3 or facts["rows"] < 20:
            problems.append("the API map has %d tables, %d rows" % (facts["tables"], facts["rows"]))
    elif kind == "source":
        if facts["pres"] == 0:
            problems.append("no code")
    return problems


def serve(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=site)
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: check.py SITE SHOTS\n")
        return 2
    site = os.path.abspath(argv[1])
    shots = os.path.abspath(argv[2])
    root = os.getcwd()
    if not os.path.exists(os.path.join(site, "index.html")):
        sys.stderr.write("check-site: no site in %s (make site first)\n" % site)
        return 1
    shutil.rmtree(shots, ignore_errors=True)
    for w in WIDTHS:
        os.makedirs(os.path.join(shots, w))
    pages = sorted(os.path.relpath(os.path.join(d, f), site)
                   for d, _, files in os.walk(site) for f in files if f.endswith(".html"))
    base = "file://" + site + "/"
    problems = {}
    facts_of = {}
    profile = tempfile.mkdtemp(prefix="check-site-")
    driver = start_browser(profile)
    server = None
    try:
        for width, (w, h, mobile) in WIDTHS.items():
            emulate(driver, w, h, mobile)
            for n, rel in enumerate(pages):
                if width == "390" and page_kind(rel) == "source":
                    continue
                load(driver, base + rel)
                facts = driver.execute_script(FACTS)
                mine = problems.setdefault(rel, [])
                for message in console_errors(driver):
                    mine.append("console error at %spx: %s" % (width, message))
                if width == "1280":
                    facts_of[rel] = facts
                    mine += expectations(site, root, rel, facts)
                    for r in facts["resources"]:
                        if not r.startswith(base):
                            mine.append("loads %s, outside the site" % r)
                    for i in facts["images"]:
                        if not i["ok"]:
                            mine.append("image missing: " + i["src"])
                elif facts["width"] > w + 1:
                    mine.append("%dpx wide at 390px: the page scrolls sideways" % facts["width"])
                if page_kind(rel) != "source":
                    name = rel.replace("/", "_")[:-5] + ".png"
                    screenshot(driver, os.path.join(shots, width, name), w)
                sys.stdout.write("\r  %spx: %d/%d pages " % (width, n + 1, len(pages)))
                sys.stdout.flush()
            sys.stdout.write("\n")

        # Links and anchors, now that every page's ids are known.
        for rel, facts in facts_of.items():
            for link in facts["links"]:
                url = urllib.parse.urlparse(link)
                if url.scheme in ("http", "https", "mailto"):
                    continue
                if url.scheme != "file":
                    problems[rel].append("link of scheme %s: %s" % (url.scheme, link))
                    continue
                path = urllib.parse.unquote(url.path)
                if not path.startswith(site + "/"):
                    problems[rel].append("link outside the site: " + link)
                    continue
                target = os.path.relpath(path, site)
                if not os.path.isfile(path):
                    problems[rel].append("dead link: " + target)
                elif url.fragment and target in facts_of and \
                        urllib.parse.unquote(url.fragment) not in facts_of[target]["ids"]:
                    problems[rel].append("dead anchor: %s#%s" % (target, url.fragment))

        # The same site from a static server.
        server = serve(site)
        http_base = "http://127.0.0.1:%d/" % server.server_address[1]
        emulate(driver, 1280, 900, False)
        walks = sorted(p for p in pages if page_kind(p) == "walkthrough")
        for rel in ["index.html"] + walks[:1]:
            load(driver, http_base + rel)
            facts = driver.execute_script(FACTS)
            for message in console_errors(driver):
                problems[rel].append("console error from the static server: " + message)
            for i in facts["images"]:
                if not i["ok"]:
                    problems[rel].append("image missing from the static server: " + i["src"])
    finally:
        driver.quit()
        if server is not None:
            server.shutdown()
            server.server_close()
        shutil.rmtree(profile, ignore_errors=True)

    failed = {rel: p for rel, p in problems.items() if p}
    for rel in sorted(failed):
        print("✗ %s" % rel)
        for p in failed[rel]:
            print("    %s" % p)
    links = sum(len(f["links"]) for f in facts_of.values())
    images = sum(len(f["images"]) for f in facts_of.values())
    print("check-site: %d pages, %d links, %d images checked; screenshots in %s"
          % (len(pages), links, images, os.path.relpath(shots, root)))
    print("check-site: %d passed, %d failed" % (len(pages) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
