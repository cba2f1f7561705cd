/*
 * procstat.h - facts about a process from /proc, shared by the writer
 * (agent/) and the readers (cli/): both must compute a process's start
 * time the same way, since a segment is only trusted while they agree.
 */
#ifndef GRT_COMMON_PROCSTAT_H
#define GRT_COMMON_PROCSTAT_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Field 22 (starttime, clock ticks after boot) of /proc/<pid>/stat; 0 if
 * unknown.  The command name (field 2) may hold spaces and parentheses,
 * so fields are counted after the last ')'.  Async-signal-safe but for
 * snprintf/strtoull, which glibc implements without locks. */
static inline uint64_t grt_proc_start_ticks(int pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    for (int field = 3; field <= 22; field++) {
        while (*p == ' ')
            p++;
        if (field == 22)
            return strtoull(p, NULL, 10);
        while (*p && *p != ' ')
            p++;
        if (!*p)
            return 0;
    }
    return 0;
}

/* A pid-like name: one or more decimal digits (segment files are named by
 * pid). */
static inline bool grt_all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

#endif /* GRT_COMMON_PROCSTAT_H */
