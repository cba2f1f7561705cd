/*
 * leak_detection - a goroutine leak, how to see it, and two fixes.
 *
 * Mirrors the Go example of a search with a timeout that returns early:
 *
 *     func search(q string, timeout time.Duration) (Result, error) {
 *         ch := make(chan Result)              // unbuffered: the bug
 *         go func() { ch <- backend(q) }()
 *         select {
 *         case r := <-ch:
 *             return r, nil
 *         case <-time.After(timeout):
 *             return Result{}, errTimeout      // nobody will read ch now
 *         }
 *     }
 *
 * When the timeout wins, the goroutine's send can never complete: it
 * blocks forever, holding its stack and whatever it references.  Counting
 * goroutines before and after shows the leak.  Two fixes:
 *   - a buffer of one (make(chan Result, 1)): the late send completes and
 *     the goroutine exits;
 *   - a context the caller cancels on return (defer cancel()), with the
 *     sender doing select { case ch <- r: case <-ctx.Done(): }.
 *
 * Here the slow backend answers only when main opens a gate, after every
 * search has timed out, so the outcome does not depend on timing.  Unlike
 * Go, C has no garbage collector: main keeps each search's channel (and
 * context) and frees them once their goroutine is gone; for the leaky
 * variant it finally reads the abandoned channels, which is the only way to
 * release such a goroutine.
 *
 * Prints the goroutine counts and the leaked count per variant.  Exits 1
 * if the leaky variant does not leak one goroutine per search or a fixed
 * one leaks any.
 *
 * Seen from outside: with --hold, the program stops right after the leaky
 * variant, prints its pid, and keeps the leaked goroutines (parked in
 * chan send) until it is killed, so that
 *
 *     gdump --leaks --threshold 100ms PID
 *
 * finds them: ten goroutines created at the same grt_go, blocked in the
 * same send (tests/gdump-demo.sh does this).
 *
 * --forever is --hold with work to watch, for gtop (./dev.sh demo and
 * tests/gtop-tmux.sh): the leak stays and a named producer and consumer
 * pass numbers on a channel "jobs" every millisecond until the program is
 * killed: 13 goroutines live (main, the 10 leaked searchers blocked on
 * their "reply" channels, producer, consumer).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <grt.h>

enum { NSEARCHES = 10 };
enum variant { LEAKY, FIXED_BUFFERED, FIXED_CONTEXT };

static const char *const variant_name[] = {
    [LEAKY] = "leaky: unbuffered reply",
    [FIXED_BUFFERED] = "fixed: buffered reply",
    [FIXED_CONTEXT] = "fixed: context cancel",
};

/* One search: what it asked, and what main must free afterwards. */
struct search {
    enum variant how;
    int query;
    grt_chan *reply; /* the result channel */
    grt_ctx *ctx;    /* FIXED_CONTEXT: cancelled when search() returns */
};

static grt_chan *backend_gate; /* closed when the backend finally answers */
static int64_t settle_ns;
static int hold; /* --hold: stay with the leak, for gdump */
static int forever; /* --forever: hold, and keep working, for gtop */
static grt_chan *jobs; /* --forever: producer to consumer */

static void producer(void *arg)
{
    (void)arg;
    for (int i = 0;; i++) {
        grt_chan_send(jobs, &i);
        grt_sleep(1000000); /* 1 ms */
    }
}

static void consumer(void *arg)
{
    (void)arg;
    for (;;)
        grt_chan_recv(jobs, NULL);
}

/* The slow backend: answers only once the gate is open. */
static int backend(int query)
{
    grt_chan_recv(backend_gate, NULL);
    return query * 10;
}

static void searcher(void *arg)
{
    struct search *s = arg;
    int r = backend(s->query);

    if (s->how != FIXED_CONTEXT) {
        grt_chan_send(s->reply, &r); /* LEAKY: blocks here for ever */
        return;
    }
    grt_case cases[] = {
        {.chan = s->reply, .op = GRT_SEND, .elem = &r},
        {.chan = grt_ctx_done(s->ctx), .op = GRT_RECV},
    };
    grt_select(cases, 2, false);
}

/* Search with a timeout: the result, or -1 when the timeout won. */
static int search(struct search *s, int64_t timeout_ns)
{
    s->reply = grt_chan_make(sizeof(int), s->how == FIXED_BUFFERED ? 1 : 0);
    grt_chan_set_name(s->reply, "reply");
    if (s->how == FIXED_CONTEXT)
        s->ctx = grt_ctx_with_cancel(grt_ctx_background());
    grt_go(searcher, s);

    grt_chan *timeout = grt_after(timeout_ns);
    int r;
    grt_case cases[] = {
        {.chan = s->reply, .op = GRT_RECV, .elem = &r},
        {.chan = timeout, .op = GRT_RECV},
    };
    int which = grt_select(cases, 2, false);
    grt_chan_free(timeout);
    if (s->ctx != NULL)
        grt_ctx_cancel(s->ctx); /* defer cancel() */
    return which == 0 ? r : -1;
}

/* The goroutine count once it reaches want, or after settle_ns. */
static int settle(int want)
{
    int64_t deadline = grt_now() + settle_ns;
    int n;
    while ((n = grt_num_goroutine()) != want && grt_now() < deadline)
        grt_sleep(1000000);
    return n;
}

/* Run NSEARCHES searches of one variant; return how many goroutines leaked. */
static int run(enum variant how)
{
    struct search s[NSEARCHES];
    int timeouts = 0;

    backend_gate = grt_chan_make(0, 0);
    int before = grt_num_goroutine();
    for (int i = 0; i < NSEARCHES; i++) {
        s[i] = (struct search){.how = how, .query = i};
        timeouts += search(&s[i], 10000000) < 0; /* 10 ms */
    }
    grt_chan_close(backend_gate); /* the backend answers, too late */
    int after = settle(before);
    printf("%-24s %d/%d timed out, goroutines before %d, after %d: "
           "leaked %d\n",
           variant_name[how], timeouts, NSEARCHES, before, after,
           after - before);

    if (how == LEAKY && forever) {
        jobs = grt_chan_make(sizeof(int), 0);
        grt_chan_set_name(jobs, "jobs");
        grt_go_named("producer", producer, NULL);
        grt_go_named("consumer", consumer, NULL);
        printf("working with %d leaked goroutines until killed: gtop -p "
               "%ld\n",
               after - before, (long)getpid());
        fflush(stdout);
        for (;;)
            grt_sleep(1000000000);
    }
    if (how == LEAKY && hold) {
        printf("holding %d leaked goroutines: gdump --leaks --threshold "
               "100ms %ld\n",
               after - before, (long)getpid());
        fflush(stdout);
        for (;;)
            grt_sleep(1000000000);
    }

    /* Clean up as a C program must: release the stuck, free the rest. */
    if (how == LEAKY) {
        for (int i = 0; i < NSEARCHES; i++)
            grt_chan_recv(s[i].reply, NULL);
    }
    if (settle(before) != before) {
        printf("%d goroutines would not exit\n",
               grt_num_goroutine() - before);
        return -1; /* leave the channels alone: someone may use them */
    }
    for (int i = 0; i < NSEARCHES; i++) {
        grt_chan_free(s[i].reply);
        if (s[i].ctx != NULL)
            grt_ctx_free(s[i].ctx);
    }
    grt_chan_free(backend_gate);
    return after - before;
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    hold = argc > 1 && strcmp(argv[1], "--hold") == 0;
    forever = argc > 1 && strcmp(argv[1], "--forever") == 0;
    quick |= hold | forever;
    settle_ns = quick ? 200000000 : 1000000000;

    printf("=== leak_detection: %d searches that time out ===\n", NSEARCHES);
    int leaky = run(LEAKY);
    int buffered = run(FIXED_BUFFERED);
    int ctx = run(FIXED_CONTEXT);
    if (leaky != NSEARCHES || buffered != 0 || ctx != 0) {
        printf("FAIL: leaked %d, %d, %d; want %d, 0, 0\n", leaky, buffered,
               ctx, NSEARCHES);
        return 1;
    }
    printf("the leak is gone with either fix\n");
    return 0;
}
