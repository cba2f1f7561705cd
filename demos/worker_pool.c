/*
 * worker_pool - a fixed number of workers take jobs from one channel and
 * send results on another ("Go by Example: Worker Pools").
 *
 * Mirrors the Go example:
 *
 *     func worker(id int, jobs <-chan int, results chan<- int) {
 *         for j := range jobs {
 *             fmt.Println("worker", id, "started  job", j)
 *             time.Sleep(time.Second)
 *             fmt.Println("worker", id, "finished job", j)
 *             results <- j * 2
 *         }
 *     }
 *     jobs := make(chan int, 20); results := make(chan int, 20)
 *     for w := 1; w <= 5; w++ { go worker(w, jobs, results) }
 *     for j := 1; j <= 20; j++ { jobs <- j }
 *     close(jobs)
 *     for a := 1; a <= 20; a++ { <-results }
 *
 * Twenty jobs of one "second" each (here 200 ms, or 10 ms with --quick) on
 * five workers take about four seconds of wall time, not twenty: the
 * workers sleep in parallel.
 *
 * Prints each start and finish and the sum of the results.  Exits 1 if
 * the sum is wrong.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <grt.h>

enum { NWORKERS = 5, NJOBS = 20 };

struct worker {
    int id;
    grt_chan *jobs, *results;
};

static int64_t job_ns;
static grt_wg running = GRT_WG_INIT; /* the workers */

static void worker(void *arg)
{
    struct worker *w = arg;
    int j;

    while (grt_chan_recv(w->jobs, &j)) {
        printf("worker %d started  job %2d\n", w->id, j);
        grt_sleep(job_ns); /* the "work" */
        printf("worker %d finished job %2d\n", w->id, j);
        int r = j * 2;
        grt_chan_send(w->results, &r);
    }
    grt_wg_done(&running);
}

int main(int argc, char **argv)
{
    int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    job_ns = quick ? 10000000 : 200000000;

    printf("=== worker_pool: %d workers, %d jobs ===\n", NWORKERS, NJOBS);
    grt_chan *jobs = grt_chan_make(sizeof(int), NJOBS);
    grt_chan *results = grt_chan_make(sizeof(int), NJOBS);
    struct worker workers[NWORKERS];

    int64_t start = grt_now();
    for (int w = 0; w < NWORKERS; w++) {
        workers[w] = (struct worker){w + 1, jobs, results};
        grt_wg_add(&running, 1);
        grt_go(worker, &workers[w]);
    }
    for (int j = 1; j <= NJOBS; j++)
        grt_chan_send(jobs, &j);
    grt_chan_close(jobs);

    int sum = 0, r;
    for (int a = 0; a < NJOBS; a++) {
        grt_chan_recv(results, &r);
        sum += r;
    }
    /* The workers leave their loops once jobs is drained and closed. */
    grt_wg_wait(&running);
    grt_chan_free(jobs);
    grt_chan_free(results);
    printf("%d jobs done in %.0f ms, sum of results %d (want %d)\n", NJOBS,
           (double)(grt_now() - start) / 1e6, sum, NJOBS * (NJOBS + 1));
    return sum == NJOBS * (NJOBS + 1) ? 0 : 1;
}
