"""kits.py - what each style may call, and where the lessons call it, for
the site's pictures (lifecycle.py, apimap.py).

A style's calls are the functions of its kit's symbols.txt (event1/,
event2/) and the function-like macros of libevent's headers that expand to
one of them (evtimer_set, signal_add, evsignal_new, ...): a macro is named
by the style whose kit allows what it expands to, its own compat headers
(event1) or the rest (event2)."""

import glob
import os
import re

CALL_RE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
DEFINE_RE = re.compile(r"^#define\s+([A-Za-z_][A-Za-z0-9_]*)\(([^)]*)\)\s*(.*)$")


def read_symbols(path):
    """NAME -> header comment group ("<event2/event.h>", "The global base"),
    and the "NAME via MACRO" macros: MACRO -> NAME."""
    names, via = {}, {}
    group = ""
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if line.startswith("#"):
                text = line.lstrip("# ").strip()
                if text and not raw.startswith("#   ") and len(text) < 70 and (text.startswith("<") or text[0].isupper()):
                    group = text
                continue
            if not line:
                continue
            parts = line.split()
            names[parts[0]] = group
            if len(parts) == 3 and parts[1] == "via":
                via[parts[2]] = parts[0]
    return names, via


def header_macros(include_dir):
    """MACRO -> (header, the identifiers its body calls), for libevent's
    headers."""
    out = {}
    files = sorted(glob.glob(os.path.join(include_dir, "event2", "*.h")))
    files += [os.path.join(include_dir, h) for h in ("event.h", "evhttp.h", "evdns.h", "evutil.h")]
    for path in files:
        if not os.path.exists(path):
            continue
        with open(path, errors="replace") as f:
            text = f.read().replace("\\\n", " ")
        for line in text.splitlines():
            m = DEFINE_RE.match(line.strip())
            if m:
                out[m.group(1)] = (os.path.relpath(path, include_dir), set(CALL_RE.findall(m.group(3))))
    return out


class Kit:
    def __init__(self, root, style, include_dir, macros):
        self.style = style
        self.functions, self.via = read_symbols(os.path.join(root, style, "symbols.txt"))
        self.macros = {}
        for name, (header, calls) in macros.items():
            compat = header.endswith("_compat.h") or "/" not in header
            if name in self.functions or name.isupper() and name not in self.via:
                continue
            if compat != (style == "event1"):
                continue
            targets = [c for c in calls if c in self.functions]
            if targets:
                self.macros[name] = targets[0]
        for macro, name in self.via.items():
            self.macros[macro] = name

    def callable(self, name):
        return name in self.functions or name in self.macros

    def calls_in(self, text):
        """The calls a line of C makes that this style's kit allows."""
        return [n for n in CALL_RE.findall(text) if self.callable(n)]


def strip_comments(text):
    """C without its comments, line numbers kept."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def lesson_sources(root, lesson_dir):
    """{style: [paths]} of a lesson's programs."""
    out = {"event1": [], "event2": []}
    for path in sorted(glob.glob(os.path.join(root, lesson_dir, "event[12]*.c"))):
        style = os.path.basename(path)[:6]
        out[style].append(path)
    return out
