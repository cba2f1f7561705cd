/*
 * testutil.c - the shared part of the Check programs: the runner every
 * main() uses, and tu_child, which runs a function in a fresh process and
 * captures how it ended (exit status, stderr) so tests can compare Go's
 * exact panic and fatal-error words.
 *
 * Why fork without exec: a test's child is still single-threaded until the
 * test's first grt_* call, so forking it copies everything a fresh program
 * would have, and the function to run is just a pointer.  Rejected:
 * re-executing /proc/self/exe with a case name (a second way to select
 * code, and Check's own setup would run again).  The price is the
 * precondition in testutil.h: no runtime may be running in the caller.
 */
#include "config.h"

#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grt.h>

int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    if (srunner_fork_status(sr) == CK_NOFORK) {
        const char *one = getenv("CK_RUN_CASE");
        if (!one || !*one) {
            fprintf(stderr,
                    "%s: CK_FORK=no runs every test in one process, which "
                    "the runtime cannot do (one runtime per process, and "
                    "some tests end their process); set CK_RUN_CASE to "
                    "run one case without fork (for gdb). Skipped.\n",
                    program_invocation_short_name);
            srunner_free(sr);
            return 77;
        }
        fprintf(stderr,
                "%s: warning: no-fork mode, case %s: the tests of the "
                "case share one runtime and an exit test ends the run\n",
                program_invocation_short_name, one);
    }
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Read fd to EOF, keeping the first len - 1 bytes in buf (NUL-ended). */
static void read_all(int fd, char *buf, size_t len)
{
    size_t n = 0;
    char drop[512];
    for (;;) {
        char *dst = n + 1 < len ? buf + n : drop;
        size_t room = n + 1 < len ? len - 1 - n : sizeof drop;
        ssize_t r = read(fd, dst, room);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (dst != drop)
            n += (size_t)r;
    }
    if (len)
        buf[n] = '\0';
}

void tu_child(void (*fn)(void), char *err, size_t errlen, int *status)
{
    int fds[2];
    ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
    fflush(NULL); /* or buffered output would be written twice */
    pid_t parent = getpid();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* the parent died before prctl took effect */
        if (dup2(fds[1], STDERR_FILENO) < 0)
            _exit(127);
        close(fds[0]);
        close(fds[1]);
        setvbuf(stderr, NULL, _IONBF, 0);
        fn();
        exit(0); /* as main returning 0 */
    }
    close(fds[1]);
    read_all(fds[0], err, errlen);
    close(fds[0]);
    pid_t w;
    do
        w = waitpid(pid, status, 0);
    while (w < 0 && errno == EINTR);
    ck_assert_int_eq(w, pid);
}

char *tu_first_line(const char *text, char *line, size_t len)
{
    size_t n = strcspn(text, "\n");
    if (len == 0)
        return line;
    if (n > len - 1)
        n = len - 1;
    memcpy(line, text, n);
    line[n] = '\0';
    return line;
}

void tu_assert_child_at(int status, const char *err, int want,
                        const char *first, const char *file, int line)
{
    if (WIFSIGNALED(status))
        ck_abort_msg("%s:%d: child killed by signal %d (%s); "
                     "stderr:\n" TU_ERR,
                     file, line, WTERMSIG(status),
                     strsignal(WTERMSIG(status)), err);
    ck_assert_msg(WIFEXITED(status), "%s:%d: child status %#x", file, line,
                  (unsigned)status);
    ck_assert_msg(WEXITSTATUS(status) == want,
                  "%s:%d: child exited %d, want %d; stderr:\n" TU_ERR, file,
                  line, WEXITSTATUS(status), want, err);
    if (first) {
        char got[256];
        tu_first_line(err, got, sizeof got);
        ck_assert_msg(strcmp(got, first) == 0,
                      "%s:%d: child's first stderr line is \"%s\", want "
                      "\"%s\"; stderr:\n" TU_ERR,
                      file, line, got, first, err);
    }
}

void tu_wait_goroutines(int n)
{
    while (grt_num_goroutine() > n)
        grt_yield();
}

int tu_run_suite_agent_dir(Suite *s, char *dir_template)
{
    if (!mkdtemp(dir_template)) {
        perror("mkdtemp");
        return 99;
    }
    setenv("GRT_AGENT_DIR", dir_template, 1);
    int rc = tu_run_suite(s);
    DIR *d = opendir(dir_template);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char p[4200];
            snprintf(p, sizeof p, "%s/%s", dir_template, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir_template);
    return rc;
}
