"""traces.py - reading a lifecycle trace (docs/trace-format.md), for the
site's pictures. Split on whitespace, as the format says tools should."""

import re

FREE_TEXT = ("note", "event1", "event2")
STATE_RE = re.compile(r"^(non-pending|pending\([A-Z|a-z]+\)(\+active\([A-Z|a-z]+\))?|active\([A-Z|a-z]+\))$")


class Line:
    """One line of a trace: its subject, step, fields, and its state if
    one of its fields is a state."""

    def __init__(self, number, text):
        self.number = number
        self.text = text
        parts = text.split()
        self.subject = parts[0]
        self.step = parts[1] if len(parts) > 1 else ""
        self.fields = parts[2:]
        self.state = None
        self.keys = {}
        if self.subject in FREE_TEXT:
            return
        for field in self.fields:
            if STATE_RE.match(field):
                self.state = field
            elif "=" in field:
                key, _, value = field.partition("=")
                self.keys[key] = value


def for_style(text, style):
    """The lines of an expected trace that STYLE prints: all but the other
    style's own lines (what `course expected STYLE` does)."""
    other = "event2" if style == "event1" else "event1"
    out = []
    for raw in text.splitlines():
        if raw.strip() == "":
            continue
        if raw.split()[0] == other:
            continue
        out.append(raw)
    return out


def parse(lines):
    return [Line(i + 1, text) for i, text in enumerate(lines)]


def state_class(state):
    """non-pending, pending, active or pending-active."""
    if state is None:
        return None
    if state == "non-pending":
        return "non-pending"
    if state.startswith("pending(") and "+active(" in state:
        return "pending-active"
    if state.startswith("pending("):
        return "pending"
    return "active"


def flags_of(state):
    """pending(READ|PERSIST) -> READ|PERSIST."""
    m = re.match(r"^[a-z-]+\(([^)]*)\)", state or "")
    return m.group(1) if m else ""
