#!/usr/bin/python3 -B
"""timeline.py - a lesson's expected trace drawn as a timeline (SVG).

    timeline.py STYLE TRACE OUT.svg [TITLE]
    timeline.py --batch FILE      (a line each: STYLE TRACE OUT.svg TITLE)

One lane per subject of the trace (the loop, each event, each other thing
the lesson names), time downwards, one row per line of the trace as STYLE
(event1 or event2) prints it: the other style's own lines left out, as
`course expected STYLE` does. An event's lane shows its state from each
line that says it (non-pending a thin line, pending a bar, active and
pending+active in their colours), an `active` line as a mark, the callback
as a bracket from its `callback` line to its `after` line, and its end at
`free`. The loop's lane is a band from `dispatch` (or nonblock, once) to
`returned`. Other subjects (bufferevents, clients) get a mark per line, a
filled one for a callback (`...-cb`). Each row also prints its line.

The SVG says in its <desc> what it draws, lane by lane, in words (for
people who do not see it, and for tests/site.c):
    reader: non-pending 1-2, pending 3-12, active 13, non-pending 14-18;
    callbacks 14-15; free 18
"""

import sys
from xml.sax.saxutils import escape

import traces

ROW = 17          # height of a row
LANE = 21         # width of a lane
TEXT_CHARS = 54   # a row's text is cut there (the whole line is its tooltip)
CHAR = 6.65       # width of a character of the 11px monospace font
LOOP_STEPS = ("dispatch", "nonblock", "once", "loop")

COLOURS = {
    "non-pending": "#9aa4ae",
    "pending": "#2f6fd0",
    "active": "#e07b00",
    "pending-active": "#2f6fd0",
    "callback": "#1d8a3e",
    "loop": "#fbe9a8",
    "event1": "#a15c00",
    "event2": "#0a6e6e",
}


class Lane:
    def __init__(self, name):
        self.name = name
        self.rows = []          # the lines of this subject
        self.is_event = False
        self.segments = []      # (state class, state text, first row, last row)
        self.callbacks = []     # (first row, last row)
        self.actives = []       # rows of `active` lines
        self.bands = []         # loop: (first row, last row, depth)
        self.free = None


def build(lines):
    """The lanes of a parsed trace, in order of first appearance (the loop
    first)."""
    total = len(lines)
    lanes = {}
    order = []
    for line in lines:
        if line.subject in traces.FREE_TEXT:
            continue
        if line.subject not in lanes:
            lanes[line.subject] = Lane(line.subject)
            order.append(line.subject)
        lane = lanes[line.subject]
        lane.rows.append(line)
        if line.state is not None:
            lane.is_event = True
    if "loop" in order:
        order.remove("loop")
        order.insert(0, "loop")

    for lane in lanes.values():
        if lane.name == "loop":
            stack = []
            for line in lane.rows:
                if line.step in LOOP_STEPS:
                    stack.append(line.number)
                elif line.step == "returned" and stack:
                    start = stack.pop()
                    lane.bands.append((start, line.number, len(stack)))
            for start in stack:  # never returned
                lane.bands.append((start, total, 0))
            continue
        if not lane.is_event:
            continue
        current = None      # (class, text, since)
        open_callback = None
        end = total
        for line in lane.rows:
            new = None
            if line.step == "active":
                lane.actives.append(line.number)
                new = ("active", "active(" + line.keys.get("what", "") + ")")
            elif line.state is not None:
                new = (traces.state_class(line.state), line.state)
            if line.step == "callback":
                open_callback = line.number
            elif line.step == "after" and open_callback is not None:
                lane.callbacks.append((open_callback, line.number))
                open_callback = None
            if new is not None and (current is None or new != current[:2]):
                if current is not None:
                    lane.segments.append((current[0], current[1], current[2], line.number - 1))
                current = (new[0], new[1], line.number)
            if line.step == "free":
                lane.free = line.number
                end = line.number
                break
        if open_callback is not None:
            lane.callbacks.append((open_callback, open_callback))
        if current is not None:
            lane.segments.append((current[0], current[1], current[2], end))
    return [lanes[name] for name in order]


def rows_text(first, last):
    return str(first) if first == last else "%d-%d" % (first, last)


def describe(lanes):
    """The lanes in words, one lane a line."""
    out = []
    for lane in lanes:
        if lane.name == "loop":
            runs = ", ".join(rows_text(a, b) for a, b, _ in sorted(lane.bands))
            out.append("loop: running %s" % (runs or "never"))
        elif lane.is_event:
            parts = ["%s %s" % (text if cls != "active" else "active", rows_text(a, b))
                     for cls, text, a, b in lane.segments]
            words = "%s: %s" % (lane.name, ", ".join(parts))
            if lane.callbacks:
                words += "; callbacks " + ", ".join(rows_text(a, b) for a, b in lane.callbacks)
            if lane.free is not None:
                words += "; free %d" % lane.free
            out.append(words)
        else:
            out.append("%s: %s" % (lane.name, ", ".join(
                "%s %d" % (l.step, l.number) for l in lane.rows)))
    return out


def svg(lines, lanes, style, title):
    top_legend = 30
    label_space = 84
    top = top_legend + label_space
    lanes_x = 14
    text_x = lanes_x + LANE * len(lanes) + 12
    text_width = min(TEXT_CHARS, max([len(" ".join(l.text.split())) for l in lines] + [20])) * CHAR
    width = int(max(text_x + text_width + 14, 590))
    height = top + ROW * len(lines) + 14
    out = []
    add = out.append
    add('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
        'role="img" aria-labelledby="t d" font-family="DejaVu Sans, Verdana, sans-serif">'
        % (width, height, width, height))
    add('<title id="t">%s</title>' % escape(title))
    add('<desc id="d">%s</desc>' % escape("\n".join(describe(lanes))))
    add('<rect width="100%" height="100%" fill="#ffffff"/>')
    add('<text x="%d" y="18" font-size="13" font-weight="bold" fill="%s">%s</text>'
        % (lanes_x, COLOURS[style], escape(style)))
    legend = [("non-pending", "line"), ("pending", "bar"), ("active", "bar"),
              ("pending+active", "both"), ("callback", "bracket"), ("loop running", "band")]
    x = lanes_x + 62
    for label, kind in legend:
        if kind == "line":
            add('<line x1="%d" y1="6" x2="%d" y2="20" stroke="%s" stroke-width="2"/>' % (x + 4, x + 4, COLOURS["non-pending"]))
        elif kind == "bar":
            add('<rect x="%d" y="6" width="8" height="14" rx="2" fill="%s"/>' % (x, COLOURS[label]))
        elif kind == "both":
            add('<rect x="%d" y="6" width="8" height="14" rx="2" fill="%s"/>' % (x, COLOURS["pending"]))
            add('<rect x="%d" y="9" width="4" height="8" fill="%s"/>' % (x + 2, COLOURS["active"]))
        elif kind == "bracket":
            add('<path d="M%d 6 h4 v14 h-4" fill="none" stroke="%s" stroke-width="2"/>' % (x + 2, COLOURS["callback"]))
        else:
            add('<rect x="%d" y="6" width="10" height="14" fill="%s"/>' % (x - 1, COLOURS["loop"]))
        add('<text x="%d" y="17" font-size="10.5" fill="#333">%s</text>' % (x + 13, escape(label)))
        x += 13 + int(len(label) * 6.2) + 12

    # Rows: a faint rule every row, the text of the line.
    for line in lines:
        y = top + (line.number - 1) * ROW
        if line.number % 2 == 0:
            add('<rect x="0" y="%d" width="%d" height="%d" fill="#f4f6f8"/>' % (y, width, ROW))
    # Each row's text; a tick in its subject's lane.
    index = {lane.name: i for i, lane in enumerate(lanes)}
    for line in lines:
        y = top + (line.number - 1) * ROW + 12
        words = " ".join(line.text.split())
        shown = words if len(words) <= TEXT_CHARS else words[:TEXT_CHARS - 1] + "…"
        colour = "#222"
        weight = ""
        if line.subject in ("event1", "event2"):
            colour = COLOURS[line.subject]
            weight = ' font-style="italic"'
        elif line.subject == "note":
            colour = "#5b6672"
        add('<text class="row" x="%d" y="%d" font-family="DejaVu Sans Mono, monospace" font-size="11" fill="%s"%s>'
            '%s<title>%d: %s</title></text>' % (text_x, y, colour, weight, escape(shown), line.number, escape(words)))
        if line.subject in index and line.subject != "loop":
            cx = lanes_x + index[line.subject] * LANE + LANE // 2
            add('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#dde2e7" stroke-width="1"/>'
                % (cx + 10, y - 4, text_x - 4, y - 4))
    # Lane labels and guides.
    for i, lane in enumerate(lanes):
        cx = lanes_x + i * LANE + LANE // 2
        add('<text transform="translate(%d %d) rotate(-55)" font-size="11" fill="#222">%s</text>'
            % (cx + 3, top - 6, escape(lane.name)))
    for i, lane in enumerate(lanes):
        cx = lanes_x + i * LANE + LANE // 2
        g = '<g class="lane" data-lane="%s">' % escape(lane.name)
        add(g)
        for a, b, depth in lane.bands:
            add('<rect class="band" data-rows="%s" x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#d9b945" stroke-width="%d"/>'
                % (rows_text(a, b), cx - 8 + depth * 2, top + (a - 1) * ROW + 2, 16 - depth * 4,
                   (b - a + 1) * ROW - 4, COLOURS["loop"], 1))
        for cls, text, a, b in lane.segments:
            y1 = top + (a - 1) * ROW
            y2 = top + b * ROW
            tip = '<title>%s %s, lines %s</title>' % (escape(lane.name), escape(text), rows_text(a, b))
            if cls == "non-pending":
                add('<line class="state non-pending" data-rows="%s" x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2">%s</line>'
                    % (rows_text(a, b), cx, y1 + 3, cx, y2 - 3, COLOURS[cls], tip))
            else:
                add('<rect class="state %s" data-rows="%s" x="%d" y="%d" width="8" height="%d" rx="2" fill="%s">%s</rect>'
                    % (cls, rows_text(a, b), cx - 4, y1 + 2, y2 - y1 - 4, COLOURS[cls], tip))
                if cls == "pending-active":
                    add('<rect x="%d" y="%d" width="4" height="%d" fill="%s"/>'
                        % (cx - 2, y1 + 5, y2 - y1 - 10, COLOURS["active"]))
        for a, b in lane.callbacks:
            y1 = top + (a - 1) * ROW + 3
            y2 = top + b * ROW - 3
            add('<path class="callback" data-rows="%s" d="M%d %d h5 v%d h-5" fill="none" stroke="%s" stroke-width="2.2">'
                '<title>%s callback, lines %s</title></path>'
                % (rows_text(a, b), cx + 6, y1, y2 - y1, COLOURS["callback"], escape(lane.name), rows_text(a, b)))
        for row in lane.actives:
            y = top + (row - 1) * ROW + ROW // 2
            add('<path class="active-mark" data-rows="%d" d="M%d %d l6 -6 l6 6 l-6 6 z" fill="%s" stroke="#fff" stroke-width="1"/>'
                % (row, cx - 6, y, COLOURS["active"]))
        if lane.free is not None:
            y = top + lane.free * ROW - 4
            add('<path class="free" d="M%d %d l8 0" stroke="#333" stroke-width="2"/>' % (cx - 4, y))
        if not lane.is_event and lane.name != "loop":
            first, last = lane.rows[0].number, lane.rows[-1].number
            add('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#c9ced4" stroke-width="1.5" stroke-dasharray="2 2"/>'
                % (cx, top + (first - 1) * ROW + ROW // 2, cx, top + (last - 1) * ROW + ROW // 2))
            for line in lane.rows:
                y = top + (line.number - 1) * ROW + ROW // 2
                is_cb = line.step.endswith("cb") or line.step == "callback"
                add('<circle class="%s" data-rows="%d" cx="%d" cy="%d" r="4" fill="%s" stroke="%s" stroke-width="1.5"><title>%s</title></circle>'
                    % ("mark callback" if is_cb else "mark", line.number, cx, y,
                       COLOURS["callback"] if is_cb else "#ffffff",
                       COLOURS["callback"] if is_cb else "#6b7580", escape(" ".join(line.text.split()))))
        add('</g>')
    add('</svg>')
    return "\n".join(out) + "\n"


def timeline(text, style, title):
    lines = traces.parse(traces.for_style(text, style))
    return svg(lines, build(lines), style, title)


def draw(style, trace, out, title):
    with open(trace) as f:
        text = f.read()
    with open(out, "w") as f:
        f.write(timeline(text, style, title))


def main(argv):
    if len(argv) == 3 and argv[1] == "--batch":
        # One timeline a line: STYLE TRACE OUT.svg TITLE, tab-separated (the
        # build draws them all in one process).
        with open(argv[2]) as f:
            for line in f:
                style, trace, out, title = line.rstrip("\n").split("\t")
                draw(style, trace, out, title)
        return 0
    if len(argv) not in (4, 5) or argv[1] not in ("event1", "event2"):
        sys.stderr.write("usage: timeline.py event1|event2 TRACE OUT.svg [TITLE]\n"
                         "       timeline.py --batch FILE\n")
        return 2
    style, trace, out = argv[1], argv[2], argv[3]
    draw(style, trace, out, argv[4] if len(argv) == 5 else "%s, %s" % (trace, style))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
