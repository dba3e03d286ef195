#!/usr/bin/python3 -B
"""site.py - what tests/site.c asks of a built site (make site), read with
a real HTML parser (python's html.parser), never with patterns.

    site.py links SITE            every local href/src of every page that
                                  leads nowhere (a file or an id missing),
                                  one a line; exit 1 if any
    site.py outside SITE          every resource a page would load from
                                  outside the site (img, script, link,
                                  iframe, ...); exit 1 if any
    site.py pairs SITE PAGE       each side-by-side pair of PAGE: the files
                                  its event1 and its event2 column show
    site.py table SITE PAGE       each row of PAGE's tables, cells by tabs,
                                  a cell's links after it as [href]
    site.py images SITE PAGE      the src of each img of PAGE
    site.py prevnext SITE PAGE    the href of PAGE's previous and next links
"""

import html.parser
import os
import sys
import urllib.parse

LOADS = {"img": "src", "script": "src", "iframe": "src", "embed": "src",
         "source": "src", "video": "src", "audio": "src", "object": "data"}


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.refs = []        # (tag, attribute, value)
        self.stack = []       # open elements: (tag, classes)
        self.pairs = []       # [(event1 files, event2 files)]
        self.side = None
        self.rows = []
        self.row = None
        self.cell = None
        self.images = []
        self.prevnext = []

    def classes(self):
        return [c for _, cs in self.stack for c in cs]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        for key in ("href", "src", "data", "xlink:href"):
            if a.get(key):
                self.refs.append((tag, key, a[key]))
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "a" and any("prevnext" in c for _, c in self.stack):
            self.prevnext.append("%s %s" % (a.get("class", ""), a.get("href", "")))
        if tag in ("br", "img", "meta", "link", "input", "hr", "col", "source", "wbr", "area", "base", "embed"):
            return
        if "pair" in cls:
            self.pairs.append(([], []))
        if "side" in cls and ("event1" in cls or "event2" in cls):
            self.side = 0 if "event1" in cls else 1
        if tag == "a" and "file" in cls and self.side is not None and self.pairs:
            self.pairs[-1][self.side].append(a.get("href", ""))
        if tag == "tr":
            self.row = []
        if tag in ("td", "th") and self.row is not None:
            self.cell = ["", []]
        if tag == "a" and self.cell is not None and a.get("href"):
            self.cell[1].append(a["href"])
        self.stack.append((tag, cls))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            text = " ".join(self.cell[0].split())
            self.row.append(text + "".join(" [%s]" % h for h in self.cell[1]))
            self.cell = None
        if tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        while self.stack:
            t, cls = self.stack.pop()
            if "side" in cls:
                self.side = None
            if t == tag:
                break

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[0] += data


def parse(path):
    p = Page()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    p.close()
    return p


def pages(site):
    for d, _, files in os.walk(site):
        for f in files:
            if f.endswith(".html"):
                yield os.path.relpath(os.path.join(d, f), site)


def links(site):
    parsed = {rel: parse(os.path.join(site, rel)) for rel in pages(site)}
    bad = []
    for rel in sorted(parsed):
        for tag, key, value in parsed[rel].refs:
            url = urllib.parse.urlparse(value)
            if url.scheme or value.startswith("//"):
                continue
            path = urllib.parse.unquote(url.path)
            target = os.path.normpath(os.path.join(os.path.dirname(rel), path)) if path else rel
            if target.startswith(".."):
                bad.append("%s: %s leaves the site" % (rel, value))
            elif not os.path.isfile(os.path.join(site, target)):
                bad.append("%s: %s: no such file" % (rel, value))
            elif url.fragment and target.endswith(".html") and \
                    urllib.parse.unquote(url.fragment) not in parsed[target].ids:
                bad.append("%s: %s: no such anchor" % (rel, value))
    return bad


def outside(site):
    bad = []
    for rel in sorted(pages(site)):
        for tag, key, value in parse(os.path.join(site, rel)).refs:
            loads = LOADS.get(tag) == key or (tag == "link" and key == "href")
            if loads and (urllib.parse.urlparse(value).scheme not in ("", "data") or value.startswith("//")):
                bad.append("%s: <%s %s=%s>" % (rel, tag, key, value))
    return bad


def main(argv):
    if len(argv) < 3 or argv[1] not in ("links", "outside", "pairs", "table", "images", "prevnext"):
        sys.stderr.write(__doc__)
        return 2
    site = argv[2]
    if argv[1] in ("links", "outside"):
        bad = links(site) if argv[1] == "links" else outside(site)
        for b in bad:
            print(b)
        return 1 if bad else 0
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    page = parse(os.path.join(site, argv[3]))
    if argv[1] == "pairs":
        for left, right in page.pairs:
            print("%s | %s" % (" ".join(left), " ".join(right)))
    elif argv[1] == "table":
        for row in page.rows:
            print("\t".join(row))
    elif argv[1] == "images":
        for src in page.images:
            print(src)
    else:
        for link in page.prevnext:
            print(link)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
