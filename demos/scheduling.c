/*
 * scheduling - the order in which goroutines run is not the order in
 * which they were started.
 *
 * Mirrors the Go example:
 *
 *     for i := 0; i < 20; i++ {
 *         wg.Add(1)
 *         go func(id int) {
 *             defer wg.Done()
 *             for step := 0; step < 3; step++ {
 *                 fmt.Printf("goroutine %d step %d\n", id, step)
 *                 if step%2 == 0 {
 *                     d := time.Duration(rand.Intn(5))
 *                     time.Sleep(d * time.Millisecond)
 *                 } else {
 *                     runtime.Gosched()
 *                 }
 *             }
 *         }(i)
 *     }
 *     wg.Wait()
 *
 * Sleeping parks a goroutine on a timer; yielding puts it back at the end
 * of the global run queue.  Either way others run in between, so the
 * printed order interleaves goroutines and changes from run to run.  The
 * sequence number in brackets is the global print order.
 *
 * Prints one line per step.  Exits 1 if a step is missing.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <grt.h>

enum { NGOROUTINES = 20, NSTEPS = 3 };

static grt_wg wg = GRT_WG_INIT;
static atomic_int seq;           /* global print order */
static atomic_int steps_done;    /* steps printed, all goroutines */

static void stepper(void *arg)
{
    int id = (int)(intptr_t)arg;
    /* A per-goroutine pseudo-random sleep: 0 to 4 ms. */
    unsigned r = (unsigned)id * 2654435761u;

    for (int step = 0; step < NSTEPS; step++) {
        printf("[%2d] goroutine %2d step %d\n", atomic_fetch_add(&seq, 1),
               id, step);
        atomic_fetch_add(&steps_done, 1);
        if (step % 2 == 0) {
            r = r * 1103515245u + 12345u;
            grt_sleep((int64_t)((r >> 16) % 5) * 1000000);
        } else {
            grt_yield();
        }
    }
    grt_wg_done(&wg);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv; /* already quick */
    printf("=== scheduling: %d goroutines, %d steps each, GOMAXPROCS=%d ===\n",
           NGOROUTINES, NSTEPS, grt_maxprocs(0));
    for (int i = 0; i < NGOROUTINES; i++) {
        grt_wg_add(&wg, 1);
        grt_go(stepper, (void *)(intptr_t)i);
    }
    grt_wg_wait(&wg);

    int done = atomic_load(&steps_done);
    printf("%d steps completed (want %d)\n", done, NGOROUTINES * NSTEPS);
    return done == NGOROUTINES * NSTEPS ? 0 : 1;
}
