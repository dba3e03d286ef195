# numbered.sh - the numbered directories, lessons/NN-slug and
# exercises/NN-slug: listing them with their titles, and finding one from
# what someone typed. Sourced, from the top of the course tree, by
# lessons/run-lesson.sh and exercises/common.sh.
# shellcheck shell=bash

# The directories under PARENT (lessons, exercises), sorted.
numbered_dirs() { # parent
    ls -d "$1"/[0-9][0-9]-*/ 2>/dev/null | sed 's:/$::'
}

# The first heading of DIR's README without "# ": "Lesson 02: The event lifecycle".
numbered_title() { # dir
    sed -n '1s/^# *//p' "$1/README.md" 2>/dev/null
}

# One line per directory under PARENT: its number, its title (without
# "Lesson 02: "), and the make target that runs it, TARGET-N.
numbered_list() { # parent target
    local d n
    for d in $(numbered_dirs "$1"); do
        n=${d#"$1"/}; n=${n%%-*}
        printf '  %s  %-44s make %s-%d\n' "$n" \
            "$(numbered_title "$d" | sed 's/^[A-Z][a-z]* [0-9]*: //')" "$2" "$((10#$n))"
    done
}

# Print the directory under PARENT that WHAT names: its number ("3" or
# "03") or its name ("03-fix-tcp-client", "exercises/03-fix-tcp-client").
# Status 1 if none does.
numbered_find() { # parent what
    local want=${2%/} d n
    want=${want#"$1"/}
    for d in $(numbered_dirs "$1"); do
        n=${d#"$1"/}; n=${n%%-*}
        if [[ $want =~ ^[0-9]{1,2}$ ]] && [ "$((10#$n))" -eq "$((10#$want))" ]; then
            echo "$d"; return 0
        fi
        if [ "$want" = "${d#"$1"/}" ]; then
            echo "$d"; return 0
        fi
    done
    return 1
}
