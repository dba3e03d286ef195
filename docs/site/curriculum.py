#!/usr/bin/python3 -B
"""curriculum.py - the site's index page (Markdown), from the course's index.

    curriculum.py LESSONS.tsv EXERCISES.tsv FIRST-CALLS.tsv DOCS OUT.md

LESSONS.tsv and EXERCISES.tsv are `.ci/index.sh table lessons|exercises`
("NN<TAB>dir<TAB>title"); FIRST-CALLS.tsv is apimap.py's, the calls each
lesson is the first to show; DOCS, the guides in docs/ ("file<TAB>title"
per line). Nothing here lists a lesson: a new lesson directory is a new row.
"""

import os
import sys

MAX_CALLS = 4


def rows(path):
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def calls(names):
    names = [n for n in names.split() if n]
    shown = ["`%s`" % (n + "()" if n.islower() else n) for n in names[:MAX_CALLS]]
    if len(names) > MAX_CALLS:
        shown.append("%d more" % (len(names) - MAX_CALLS))
    return ", ".join(shown) or "—"


def main(argv):
    if len(argv) != 6:
        sys.stderr.write("usage: curriculum.py LESSONS.tsv EXERCISES.tsv FIRST-CALLS.tsv DOCS OUT.md\n")
        return 2
    lessons, exercises, first, docs = rows(argv[1]), rows(argv[2]), rows(argv[3]), rows(argv[4])
    first_calls = {r[0]: (r[1] if len(r) > 1 else "", r[2] if len(r) > 2 else "") for r in first}
    out = ["# libevent-lessons", "",
           "libevent taught in pairs: every lesson is two small C programs that do the "
           "same thing, one in libevent **1.x style** (event1) and one in **2.x style** "
           "(event2), and each prints a trace of what happens to its events. Every "
           "walkthrough shows the two styles side by side, then the trace the programs "
           "really print, drawn as a timeline. [How to run them](README.md).", "",
           "[![The life of an event: non-pending, pending, active, its callback, and "
           "non-pending again, with what moves it in each style](img/lifecycle.svg)](lifecycle.md)", "",
           "## Lessons", "",
           "Each lesson's walkthrough, its one-screen README, and the calls it is the first "
           "to show in each style (the [API map](api-map.md) has them all).", "",
           "| | walkthrough | | first shows in event1 | in event2 |", "|---|---|---|---|---|"]
    for number, directory, title in lessons:
        slug = directory.split("/")[-1]
        c1, c2 = first_calls.get(directory, ("", ""))
        walk = "docs/lessons/%s.md" % slug
        if not os.path.exists(walk):
            walk = directory + "/README.md"
        out.append("| %s | [%s](%s) | [README](%s/README.md) | %s | %s |"
                   % (number, title, walk, directory, calls(c1), calls(c2)))
    out += ["", "## Exercises", "",
            "Each has a starter, hints and graded tests: `make exercise-N` "
            "([how to work one](docs/students.md)).", "",
            "| | exercise |", "|---|---|"]
    for number, directory, title in exercises:
        out.append("| %s | [%s](%s/README.md) |" % (number, title, directory))
    out += ["", "## Reading", ""]
    out.append("- [The lifecycle](lifecycle.md): the states of an event and what moves it, "
               "drawn from the lessons' traces and programs.")
    out.append("- [API map](api-map.md): each 1.x call and its 2.x counterpart, "
               "with the lessons that show them.")
    for path, title in docs:
        out.append("- [%s](%s)" % (title, path))
    out += ["- Outside: [the libevent book](http://www.wangafu.net/~nickm/libevent-book/) "
            "(Nick Mathewson's *Programming with Libevent*) and "
            "[the API reference](https://libevent.org/doc/).", ""]
    with open(argv[5], "w") as f:
        f.write("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
