/*
 * processes - before goroutines: an OS process.
 *
 * Mirrors the Go example that runs a command with os/exec:
 *
 *     out, err := exec.Command("ls", "-la").Output()
 *     fmt.Print(string(out))
 *     fmt.Println("exit status:", cmd.ProcessState.ExitCode())
 *
 * A process is the heaviest unit of concurrency: its own address space,
 * created by fork/exec (here posix_spawn) and waited for by its parent.
 * The goroutine that starts it reads the child's output through a pipe with
 * grt_read, which parks only the goroutine (not its thread) while the pipe
 * is empty, and waits for the child inside grt_syscall_enter/exit, so the
 * runtime can hand the processor to another thread meanwhile, as Go's
 * os/exec does underneath.
 *
 * Prints the child's output, then "exit status: N".  Exits 1 if the child
 * could not be run or did not exit with status 0.
 */
#include "config.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grt.h>

extern char **environ;

/* Run argv[0] with its output on a pipe; return the pipe's read end. */
static int start(char *const argv[], pid_t *pid)
{
    int fds[2];
    posix_spawn_file_actions_t fa;

    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    /* In the child: stdout := the pipe's write end (dup2 clears CLOEXEC). */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    int err = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (err != 0) {
        close(fds[0]);
        errno = err;
        return -1;
    }
    return fds[0];
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv; /* --quick changes nothing: ls is quick */
    char *cmd[] = {"ls", "-la", NULL};
    pid_t pid;
    int status;

    printf("=== processes: running \"ls -la\" as a child process ===\n");
    int fd = start(cmd, &pid);
    if (fd < 0) {
        perror("posix_spawnp ls");
        return 1;
    }
    printf("started child process %d\n", (int)pid);
    fflush(stdout);

    /* cmd.Output(): copy everything the child writes until EOF. */
    char buf[4096];
    ssize_t n;
    while ((n = grt_read(fd, buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    if (n < 0)
        perror("read");
    grt_close(fd);

    /* cmd.Wait(): a blocking call, bracketed so it holds no processor. */
    grt_syscall_enter();
    pid_t r = waitpid(pid, &status, 0);
    grt_syscall_exit();
    if (r != pid) {
        perror("waitpid");
        return 1;
    }
    if (!WIFEXITED(status)) {
        printf("child killed by signal %d\n", WTERMSIG(status));
        return 1;
    }
    printf("exit status: %d\n", WEXITSTATUS(status));
    return WEXITSTATUS(status) == 0 ? 0 : 1;
}
