#!/usr/bin/python3 -B
"""convert.py - a walkthrough's HTML tables of the two styles, in the form
that reads in a pager.

    docs/site/convert.py FILE.md...

Walkthroughs once put the two styles side by side in raw HTML:

    <table>
    <tr><th>event1</th><th>event2</th></tr>
    <tr><td>

    <!-- snippet: lessons/NN/event1.c REGION -->
    ...
    <!-- end snippet -->

    </td><td>

    <!-- snippet: lessons/NN/event2.c REGION -->
    ...
    <!-- end snippet -->

    </td></tr>
    </table>

which a terminal shows as tags around code. This writes each such table as

    **event1**

    <!-- snippet: lessons/NN/event1.c REGION -->
    ...
    <!-- end snippet -->

    **event2**

    <!-- snippet: lessons/NN/event2.c REGION -->
    ...
    <!-- end snippet -->

which reads top to bottom in a pager, and which the site (page.lua) still
lays out side by side. The snippets themselves are kept byte for byte
(docs/snippets.sh regenerates them either way). A table of another shape
(prose in a cell, another heading) is an error naming its line: convert it
by hand. Files are rewritten in place; each one changed is named.
"""

import re
import sys

SNIPPET = re.compile(r"^<!-- snippet: \S+( \S+)? -->$")
END = "<!-- end snippet -->"


def snippets(lines, i, stop, where):
    """The snippet blocks of lines[i:] up to the line `stop`, blank lines
    between them dropped: (the blocks' lines, the index of `stop`)."""
    out = []
    while i < len(lines):
        line = lines[i]
        if line.strip() == "":
            i += 1
        elif line == stop:
            if not out:
                raise ValueError("%s:%d: a side with no snippet" % (where, i + 1))
            return out, i
        elif SNIPPET.match(line):
            if out:
                out.append("")
            while lines[i] != END:
                out.append(lines[i])
                i += 1
                if i == len(lines):
                    raise ValueError("%s: a snippet with no end marker" % where)
            out.append(END)
            i += 1
        else:
            raise ValueError("%s:%d: not a snippet block in a side-by-side table: %r"
                             % (where, i + 1, line[:60]))
    raise ValueError("%s: a table with no %r" % (where, stop))


def convert(text, where):
    lines = text.split("\n")
    out = []
    i = 0
    count = 0
    while i < len(lines):
        if lines[i] != "<table>":
            out.append(lines[i])
            i += 1
            continue
        head = lines[i + 1:i + 3]
        if head != ["<tr><th>event1</th><th>event2</th></tr>", "<tr><td>"]:
            raise ValueError("%s:%d: a table that is not event1 beside event2" % (where, i + 1))
        left, i = snippets(lines, i + 3, "</td><td>", where)
        right, i = snippets(lines, i + 1, "</td></tr>", where)
        if i + 1 >= len(lines) or lines[i + 1] != "</table>":
            raise ValueError("%s:%d: </td></tr> not followed by </table>" % (where, i + 1))
        out += ["**event1**", ""] + left + ["", "**event2**", ""] + right
        i += 2
        count += 1
    return "\n".join(out), count


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: docs/site/convert.py FILE.md...\n")
        return 2
    status = 0
    for path in argv[1:]:
        try:
            with open(path) as f:
                text = f.read()
            new, count = convert(text, path)
        except (OSError, ValueError) as e:
            sys.stderr.write("convert: %s\n" % e)
            status = 1
            continue
        if count:
            with open(path, "w") as f:
                f.write(new)
            print("%s: %d table%s" % (path, count, "" if count == 1 else "s"))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
