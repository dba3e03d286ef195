#!/usr/bin/python3 -B
"""lifecycle.py - the event lifecycle as a state diagram, from the lessons.

    lifecycle.py ROOT INCLUDE_DIR OUT.dot OUT.md LESSON_DIR...

The states and the transitions are the ones the lessons' expected traces
show: every change of an event's state, counted, with the line that made
it (added, deleted, activated, active, callback, ...; traces.py reads
them). What causes each transition, in each style, is read from the
lessons' programs: the libevent call (a name in the style's kit, kits.py)
on the line before the probe call that traces the step and names the same
event (event_add() before probe_added(reader)), the loop call after the
`trace("loop", "dispatch")` line, the `what=` of the `active` lines.
OUT.dot is for graphviz (dot -Tsvg); each transition links to the first
lesson whose trace shows it. OUT.md is the same in a table.
"""

import collections
import os
import re
import sys

import apimap
import kits
import timeline
import traces

PROBE_STEP = {
    "probe_watch": "created",
    "probe_added": "added",
    "probe_free": "free",
}
PROBE_RE = re.compile(r"\b(probe_watch|probe_added|probe_free|probe_step)\(\s*&?([A-Za-z_][A-Za-z0-9_]*)(?:\s*,\s*\"([a-z?-]+)\")?")
LOOP_RE = re.compile(r'trace\("loop",\s*"(dispatch|nonblock|once)"')


def causes(root, lessons, kit_of):
    """{(style, step): Counter(call)}: the calls before each traced step."""
    found = collections.defaultdict(collections.Counter)
    for lesson in lessons:
        for style, paths in kits.lesson_sources(root, lesson).items():
            kit = kit_of[style]
            for path in paths:
                with open(path) as f:
                    lines = kits.strip_comments(f.read()).splitlines()
                for i, line in enumerate(lines):
                    m = LOOP_RE.search(line)
                    if m:
                        for after in lines[i + 1:i + 3]:
                            calls = kit.calls_in(after)
                            if calls:
                                found[(style, "loop")][calls[0]] += 1
                                break
                    m = PROBE_RE.search(line)
                    if not m:
                        continue
                    fn, var, step = m.group(1), m.group(2), m.group(3)
                    step = PROBE_STEP.get(fn, step)
                    if step not in ("created", "added", "deleted", "activated", "free"):
                        continue
                    near = lines[i + 1:i + 3] if step == "free" else reversed(lines[max(0, i - 10):i])
                    word = re.compile(r"\b%s\b" % re.escape(var))
                    for other in near:
                        calls = [c for c in kit.calls_in(other) if step != "created" or "priority" not in c]
                        if calls and word.search(other):
                            found[(style, step)][calls[0]] += 1
                            break
    return found


# The diagram's transitions: (from, to, the trace's step words, what it says).
EDGES = [
    ("start", "non-pending", ("created",), "set up"),
    ("non-pending", "pending", ("added",), "added"),
    ("pending", "non-pending", ("deleted",), "deleted"),
    ("pending", "active", ("active", "seen"), "the loop finds it ready"),
    ("non-pending", "active", ("activated",), "made active by hand"),
    ("pending", "active", ("activated",), "made active by hand"),
    ("active", "callback", ("callback",), "the loop runs its callback"),
    ("callback", "non-pending", ("after-np",), "without EV_PERSIST"),
    ("callback", "pending", ("after-p",), "EV_PERSIST: still added"),
    ("non-pending", "end", ("free",), "freed"),
]


def observed(root, lessons):
    """{(from, to, step): (count, first lesson)} over every expected trace
    (event2's lines; event1's lanes are the same: lessons/variants_agree),
    and the what= flags of the active lines."""
    seen = {}
    whats = collections.Counter()

    def note(key, lesson):
        count, first = seen.get(key, (0, lesson))
        seen[key] = (count + 1, first)

    for lesson in lessons:
        for name in sorted(os.listdir(os.path.join(root, lesson))):
            if not (name.startswith("expected") and name.endswith(".trace")):
                continue
            with open(os.path.join(root, lesson, name)) as f:
                lines = traces.parse(traces.for_style(f.read(), "event2"))
            for lane in timeline.build(lines):
                if not lane.is_event:
                    continue
                state = "start"
                in_callback = False
                for line in lane.rows:
                    if line.step == "created":
                        note(("start", "non-pending", "created"), lesson)
                        state = "non-pending"
                    elif line.step == "active":
                        whats.update(line.keys.get("what", "none").split("|"))
                        if state != "active":
                            note((state_node(state), "active", "active"), lesson)
                        state = "active"
                    elif line.step == "callback":
                        note(("active", "callback", "callback"), lesson)
                        in_callback = True
                        state = traces.state_class(line.state) or state
                        note(("callback", "pending" if state == "pending" else "non-pending",
                              "after-p" if state == "pending" else "after-np"), lesson)
                    elif line.step == "free":
                        note((state_node(state), "end", "free"), lesson)
                    elif line.state is not None:
                        new = traces.state_class(line.state)
                        if state_node(new) != state_node(state) and not (in_callback and line.step == "after"):
                            note((state_node(state), state_node(new), line.step), lesson)
                        state = new
                    if line.step == "after":
                        in_callback = False
    return seen, whats


def state_node(cls):
    return "active" if cls in ("active", "pending-active") else cls


def calls_text(counter, per_line=0):
    """The calls, most used first; with per_line, a newline after every
    per_line of them."""
    names = ["%s()" % name if name.islower() else name for name, _ in counter.most_common()]
    if per_line:
        return ",\n".join(", ".join(names[i:i + per_line]) for i in range(0, len(names), per_line))
    return ", ".join(names)


def main(argv):
    if len(argv) < 6:
        sys.stderr.write("usage: lifecycle.py ROOT INCLUDE_DIR OUT.dot OUT.md LESSON_DIR...\n")
        return 2
    root, include_dir, out_dot, out_md, lessons = argv[1], argv[2], argv[3], argv[4], argv[5:]
    macros = kits.header_macros(include_dir)
    kit_of = {s: kits.Kit(root, s, include_dir, macros) for s in ("event1", "event2")}
    found = causes(root, lessons, kit_of)
    seen, whats = observed(root, lessons)

    def by_style(step):
        parts = []
        for style in ("event1", "event2"):
            text = calls_text(found.get((style, step), collections.Counter()), 3)
            if step == "free" and style == "event1" and not text:
                text = "its storage goes away"
            parts.append((style, text))
        return parts

    loop = by_style("loop")
    what_text = ", ".join(w for w, _ in whats.most_common() if w != "none")
    edges = []
    for frm, to, steps, words in EDGES:
        count, first = 0, None
        for step in steps:
            c, f = seen.get((frm, to, step), (0, None))
            count += c
            if f is not None and (first is None or f < first):
                first = f
        if count == 0:
            continue
        if steps[0] in ("created", "added", "deleted", "activated", "free"):
            detail = by_style(steps[0])
        elif steps[0] == "active":
            detail = [("", "fd ready, timeout or signal: what=" + what_text)] + \
                     [(s, "in " + t) for s, t in loop]
        else:
            detail = [("", words)]
            words = ""
        edges.append((frm, to, words, detail, count, first))

    colours = {"event1": "#a15c00", "event2": "#0a6e6e", "": "#333333"}
    dot = ['digraph lifecycle {',
           '  graph [rankdir=TB, bgcolor="white", fontname="DejaVu Sans", nodesep=0.5, ranksep=0.9, pad=0.2];',
           '  node [fontname="DejaVu Sans", fontsize=13, shape=box, style="rounded,filled", penwidth=1.4];',
           '  edge [fontname="DejaVu Sans", fontsize=10, penwidth=1.3, arrowsize=0.8];',
           '  start [shape=point, width=0.14, label=""];',
           '  end [shape=doublecircle, width=0.12, label="", style=filled, fillcolor="#333333"];',
           '  "non-pending" [fillcolor="#eef0f2", color="#9aa4ae"];',
           '  pending [fillcolor="#dfe9fa", color="#2f6fd0"];',
           '  active [label="active\\n(pending+active too)", fillcolor="#fdebd3", color="#e07b00"];',
           '  callback [label="callback\\nrunning", fillcolor="#dcf1e2", color="#1d8a3e"];']
    for frm, to, words, detail, count, first in edges:
        rows = []
        if words:
            rows.append('<tr><td align="left"><b>%s</b></td></tr>' % html(words))
        for style, text in detail:
            if not text:
                continue
            prefix = ('<font color="%s"><b>%s</b></font>&nbsp;' % (colours[style], style)) if style else ""
            rows.append('<tr><td align="left">%s%s</td></tr>' % (prefix, html(text).replace("\n", "<br align=\"left\"/>")))
        rows.append('<tr><td align="left"><font color="#5b6672">%d× in the traces, first in lesson %s</font></td></tr>'
                    % (count, first.split("/")[-1][:2]))
        label = '<<table border="0" cellspacing="0" cellpadding="1">%s</table>>' % "".join(rows)
        href = apimap.lesson_page(first)[:-3] + ".html"
        dot.append('  "%s" -> "%s" [label=%s, href="%s", target="_top", tooltip="lesson %s shows it"];'
                   % (frm, to, label, href, first.split("/")[-1]))
    dot.append("}")
    with open(out_dot, "w") as f:
        f.write("\n".join(dot) + "\n")

    md = ["| from | to | cause | in the traces | first shown |", "|---|---|---|---|---|"]
    for frm, to, words, detail, count, first in edges:
        cause = "; ".join(("**%s** %s" % (s, t)) if s else t for s, t in detail if t).replace("\n", " ")
        if words:
            cause = words + ": " + cause
        md.append("| %s | %s | %s | %d | [lesson %s](%s) |"
                  % (frm, to, cause.replace("|", "\\|"), count, first.split("/")[-1][:2], apimap.lesson_page(first)))
    with open(out_md, "w") as f:
        f.write("\n".join(md) + "\n")
    return 0


def html(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
