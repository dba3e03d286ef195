#!/usr/bin/python3 -B
"""apimap.py - each 1.x call beside its 2.x counterpart, from the lessons.

    apimap.py ROOT INCLUDE_DIR OUT.md OUT.tsv LESSON_DIR...

The calls are the style kits' (event1/symbols.txt, event2/symbols.txt and
the macros of libevent's headers that expand to them: kits.py). Which 2.x
call answers which 1.x call is read from the lessons, the way `make diff-N`
shows them: each event1 program is compared with its event2 twin, line by
line (difflib), and in a changed stretch each event1 line is matched with
the event2 line that shares most of its other words (its variables, its
constants); their calls, in order, are counterparts. A call on a line the
two programs share is its own counterpart. Every pair links to the lessons
that show it.

OUT.md is the page (Markdown, rendered like any other page); OUT.tsv, one
line per lesson, "DIR<TAB>event1 calls<TAB>event2 calls" for the calls a
lesson is the first to show (the curriculum on the index page).
"""

import collections
import difflib
import os
import re
import sys

import kits

WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
BOOK = "http://www.wangafu.net/~nickm/libevent-book/"
REFERENCE = "https://libevent.org/doc/"


def words(line, kit1, kit2):
    return {w for w in WORD_RE.findall(line)
            if not kit1.callable(w) and not kit2.callable(w) and len(w) > 1}


def pair_lessons(root, lessons, k1, k2):
    """pairs[(call1, call2)] = [lessons], only1[call] = [lessons],
    only2[call] = [lessons], used1/used2[call] = [lessons]."""
    pairs = collections.defaultdict(list)
    only1 = collections.defaultdict(list)
    only2 = collections.defaultdict(list)
    used1 = collections.defaultdict(list)
    used2 = collections.defaultdict(list)

    def add(table, key, lesson):
        if lesson not in table[key]:
            table[key].append(lesson)

    for lesson in lessons:
        sources = kits.lesson_sources(root, lesson)
        twins = []
        for p1 in sources["event1"]:
            p2 = os.path.join(os.path.dirname(p1), "event2" + os.path.basename(p1)[6:])
            if os.path.exists(p2):
                twins.append((p1, p2))
        for p1, p2 in twins:
            with open(p1) as f:
                a = [l.strip() for l in kits.strip_comments(f.read()).splitlines()]
            with open(p2) as f:
                b = [l.strip() for l in kits.strip_comments(f.read()).splitlines()]
            for line in a:
                for c in k1.calls_in(line):
                    add(used1, c, lesson)
            for line in b:
                for c in k2.calls_in(line):
                    add(used2, c, lesson)
            matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
            for op, i1, i2, j1, j2 in matcher.get_opcodes():
                if op == "equal":
                    for line in a[i1:i2]:
                        for c in k1.calls_in(line):
                            if k2.callable(c):
                                add(pairs, (c, c), lesson)
                    continue
                left = [(l, k1.calls_in(l)) for l in a[i1:i2]]
                right = [(l, k2.calls_in(l)) for l in b[j1:j2]]
                taken = set()
                for line, calls in left:
                    if not calls:
                        continue
                    mine = words(line, k1, k2)
                    best, score = None, 0.0
                    for j, (other, theirs) in enumerate(right):
                        if not theirs or j in taken:
                            continue
                        common = words(other, k1, k2)
                        s = len(mine & common) / max(1, len(mine | common))
                        if s > score:
                            best, score = j, s
                    if best is None or score < 0.25:
                        for c in calls:
                            add(only1, c, lesson)
                        continue
                    taken.add(best)
                    theirs = right[best][1]
                    for n, c in enumerate(calls):
                        add(pairs, (c, theirs[min(n, len(theirs) - 1)]), lesson)
                for j, (other, theirs) in enumerate(right):
                    if j not in taken:
                        for c in theirs:
                            add(only2, c, lesson)
    return pairs, only1, only2, used1, used2


def reference_url(group):
    """<event2/bufferevent.h> -> the API reference's page for that header."""
    m = re.match(r"<event2/([a-z_]+)\.h>", group or "")
    if not m:
        return REFERENCE
    return REFERENCE + m.group(1).replace("_", "__") + "_8h.html"


def code(name, kit):
    return "`%s`" % (name + "()" if name in kit.functions or (name.islower() and name in kit.macros) else name)


def lesson_page(lesson):
    """A lesson's walkthrough, or its README while it has none."""
    slug = lesson.split("/")[-1]
    walk = "docs/lessons/%s.md" % slug
    return walk if os.path.exists(walk) else lesson + "/README.md"


def lesson_link(lesson):
    return "[%s](%s)" % (lesson.split("/")[-1][:2], lesson_page(lesson))


def main(argv):
    if len(argv) < 6:
        sys.stderr.write("usage: apimap.py ROOT INCLUDE_DIR OUT.md OUT.tsv LESSON_DIR...\n")
        return 2
    root, include_dir, out_md, out_tsv, lessons = argv[1], argv[2], argv[3], argv[4], argv[5:]
    macros = kits.header_macros(include_dir)
    k1 = kits.Kit(root, "event1", include_dir, macros)
    k2 = kits.Kit(root, "event2", include_dir, macros)
    pairs, only1, only2, used1, used2 = pair_lessons(root, lessons, k1, k2)

    # Counterparts of each 1.x call: the pairs seen in most lessons first,
    # then those seen in at least half as many.
    answers = collections.defaultdict(list)
    for (c1, c2), where in pairs.items():
        answers[c1].append((c2, where))
    for c1 in answers:
        answers[c1].sort(key=lambda item: (-len(item[1]), item[0]))
        top = len(answers[c1][0][1])
        answers[c1] = [a for a in answers[c1] if len(a[1]) * 2 >= top][:4]

    def group_of1(name):
        if name in k1.functions:
            return k1.functions[name]
        return k1.functions.get(k1.macros.get(name, ""), "Macros")

    groups = collections.OrderedDict()
    for name in list(k1.functions) + sorted(k1.macros):
        if name in k1.via.values() and name not in used1:
            continue
        if name not in used1 and name in k1.macros:
            continue
        g = group_of1(name)
        if name not in groups.setdefault(g, []):
            groups[g].append(name)

    out = ["# API map: 1.x calls and their 2.x counterparts", "",
           "Each call an event1 program may make (its kit's `event1/symbols.txt`, and the "
           "1.x macros that expand to those calls), beside the 2.x call the lessons' event2 "
           "programs make in its place. The build reads the counterparts from the lessons "
           "themselves: it compares each event1 program with its event2 twin, as "
           "`make diff-N` does, and pairs the calls of lines that differ but name the same "
           "things. A call the two programs share on the same line is its own counterpart. "
           "The numbers are the lessons that show the pair, the first one first; a 2.x call "
           "links to its header in the [API reference](%s), and the [libevent book](%s) "
           "tells the 2.x API's story." % (REFERENCE, BOOK), ""]
    out += ["The calls in the lessons: %d of event1's, %d of event2's. "
            "[The lifecycle](lifecycle.md) shows which of them move an event from state to state."
            % (len(used1), len(used2)), ""]
    for group, names in groups.items():
        rows = []
        for name in names:
            where = used1.get(name, [])
            if name in answers:
                cells = []
                for c2, lessons_of in answers[name]:
                    cells.append("[%s](%s) %s" % (code(c2, k2), reference_url(k2.functions.get(c2) or k2.functions.get(k2.macros.get(c2, ""), "")),
                                                   " ".join(lesson_link(l) for l in lessons_of)))
                answer = "<br>".join(cells)
            elif name in only1:
                answer = "nothing in its place: " + " ".join(lesson_link(l) for l in only1[name])
            else:
                answer = "—"
            shown = " ".join(lesson_link(l) for l in where) if where else "not in a lesson"
            rows.append("| %s | %s | %s |" % (code(name, k1), answer, shown))
        if not rows:
            continue
        out += ["## " + (group if not group.startswith("<") else group.strip("<>")), "",
                "| event1 (1.x) | event2 (2.x) counterpart, lessons | event1 in lessons |", "|---|---|---|"]
        out += rows
        out.append("")

    new2 = sorted(c for c in used2 if not any(c == c2 for (_, c2) in pairs))
    if new2:
        out += ["## Only in 2.x", "",
                "The calls event2 programs make that answer no 1.x call of the lessons.", "",
                "| event2 (2.x) | lessons |", "|---|---|"]
        for c in new2:
            url = reference_url(k2.functions.get(c) or k2.functions.get(k2.macros.get(c, ""), ""))
            out.append("| [%s](%s) | %s |" % (code(c, k2), url, " ".join(lesson_link(l) for l in used2[c])))
        out.append("")
    with open(out_md, "w") as f:
        f.write("\n".join(out))

    # The calls each lesson is the first to show.
    first1, first2 = {}, {}
    for c, where in used1.items():
        first1.setdefault(where[0], []).append(c)
    for c, where in used2.items():
        first2.setdefault(where[0], []).append(c)
    with open(out_tsv, "w") as f:
        for lesson in lessons:
            f.write("%s\t%s\t%s\n" % (lesson, " ".join(sorted(first1.get(lesson, []))),
                                      " ".join(sorted(first2.get(lesson, [])))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
