/*
 * results.c - see results.h.
 */
#define _GNU_SOURCE
#include "results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_COPIES = 8 };

static bool reject(char *why, size_t size, const char *fmt, int a, int b, const char *text)
{
    char line[128];
    snprintf(line, sizeof line, fmt, a, b);
    snprintf(why, size, "%s%s%s", line, text != NULL ? ": " : "",
             text != NULL ? harness_excerpt(text, strcspn(text, "\n"), 60) : "");
    return false;
}

bool judge_run(const struct outcome *o, int workers, int results, bool in_order, char *why,
               size_t size)
{
    char how[128];
    if (!o->exited || o->code != 0) {
        snprintf(why, size, "event2 %s%s%s", outcome_describe(o, how, sizeof how),
                 o->err[0] != '\0' ? "; stderr: " : "",
                 o->err[0] != '\0' ? harness_excerpt(o->err, strlen(o->err), 100) : "");
        return false;
    }
    /* seen[w][k]: result k of worker w was printed; last[w]: its last k. */
    char *seen = calloc((size_t)workers * (size_t)results + 1, 1);
    int *last = calloc((size_t)workers + 1, sizeof *last);
    if (seen == NULL || last == NULL)
        abort();
    bool ok = true;
    long count = 0;
    const char *line = o->out;
    for (; ok && *line != '\0' && strncmp(line, "done ", 5) != 0; line += strcspn(line, "\n") + 1) {
        int w, k, used = 0;
        long long v;
        if (sscanf(line, "%d %d %lld%n", &w, &k, &v, &used) != 3 || line[used] != '\n' ||
            w < 1 || w > workers || k < 1 || k > results || v != (long long)k * k)
            ok = reject(why, size, "a line that is not a result of %d workers x %d", workers,
                      results, line);
        else if (seen[(size_t)(w - 1) * (size_t)results + (size_t)(k - 1)]++)
            ok = reject(why, size, "result %d of worker %d printed twice", k, w, NULL);
        else if (in_order && k != last[w] + 1)
            ok = reject(why, size, "worker %d: result %d printed right after an earlier one", w, k,
                      NULL);
        else {
            last[w] = k;
            count++;
        }
    }
    long want = (long)workers * results;
    char done[32];
    snprintf(done, sizeof done, "done %ld\n", want);
    if (ok && count != want)
        ok = reject(why, size, "%d of %d results printed", (int)count, (int)want, NULL);
    else if (ok && strcmp(line, done) != 0)
        ok = reject(why, size, "after the %d results, not \"done %d\"", (int)want, (int)want, line);
    free(seen);
    free(last);
    return ok;
}

void assert_runs(int rounds, int copies, int workers, int results, bool in_order)
{
    char w[16], n[16], why[256];
    snprintf(w, sizeof w, "%d", workers);
    snprintf(n, sizeof n, "%d", results);
    const char *args[] = { "--workers", w, "--results", n, NULL };
    /* 2048 MB of address space, not the harness's 512: glibc gives each
       thread that allocates a malloc arena of its own, each reserving 64 MB
       of address space (up to 8 per core), and each thread's stack 8 MB:
       with 16 workers a correct program hit 512 MB and saw pthread_create
       fail in 5 runs of 60 here; 0 of 100 at 2048 MB. */
    struct run_options options = { .timeout_ms = copies > 1 ? LOADED_RUN_MS : RUN_MS,
                                   .memory_mb = 2048 };
    if (copies > MAX_COPIES)
        copies = MAX_COPIES;
    for (int round = 1; round <= rounds; round++) {
        struct subject s[MAX_COPIES];
        for (int c = 0; c < copies; c++)
            subject_start(&s[c], "event2", args, &options);
        /* Read them all as they run: a full pipe would hold one up. The
           sandbox ends a run at its time limit; the deadline is a second net. */
        long long deadline = now_ms() + options.timeout_ms + 5000;
        for (bool running = true; running && now_ms() < deadline;) {
            running = false;
            for (int c = 0; c < copies; c++)
                running = subject_pump(&s[c], 10) || running;
        }
        bool ok = true;
        for (int c = 0; c < copies; c++) {
            struct outcome o;
            subject_finish(&s[c], options.timeout_ms, &o);
            if (ok && !judge_run(&o, workers, results, in_order, why, sizeof why)) {
                ok = false;
                if (rounds > 1 || copies > 1)
                    ck_abort_msg("run %d of %d (%d at once, --workers %d --results %d): %s",
                                 (round - 1) * copies + c + 1, rounds * copies, copies, workers,
                                 results, why);
                ck_abort_msg("--workers %d --results %d: %s", workers, results, why);
            }
            outcome_free(&o);
        }
    }
}
