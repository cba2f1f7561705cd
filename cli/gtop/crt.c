/*
 * crt.c - gtop's ownership of the terminal (htop's CRT.c): locale,
 * curses set-up, colours by role with a monochrome fallback (no colour
 * support, NO_COLOR set, or -M), and teardown.  crt_fatal is gtop's only
 * fatal exit; it restores the terminal before printing, as htop's fail()
 * does.  Resizes need nothing here: ncurses turns SIGWINCH into
 * KEY_RESIZE, and the screen redraws from LINES and COLS.
 */
#include "config.h"

#include "gtop.h"

#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int crt_attr[CRT_COUNT];
bool crt_utf8;
volatile sig_atomic_t crt_quit_signal;
static bool active;

/* SIGINT, SIGTERM, SIGHUP: the main loop quits and restores the terminal
 * (getch returns early when a signal interrupts its wait). */
static void on_signal(int sig)
{
    crt_quit_signal = sig;
}

void crt_init(bool mono)
{
    setlocale(LC_ALL, "");
    crt_utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
    if (!initscr())
        crt_fatal("cannot initialise the terminal (TERM=%s)",
                  getenv("TERM") ? getenv("TERM") : "");
    active = true;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    if (getenv("NO_COLOR") && getenv("NO_COLOR")[0])
        mono = true;
    if (!mono && has_colors()) {
        start_color();
        use_default_colors();
        static const short fg[CRT_COUNT][2] = {
            [CRT_TITLE] = {COLOR_BLACK, COLOR_GREEN},
            [CRT_SELECTED] = {COLOR_BLACK, COLOR_CYAN},
            [CRT_TAGGED] = {COLOR_YELLOW, -1},
            [CRT_LABEL] = {COLOR_CYAN, -1},
            [CRT_VALUE] = {-1, -1},
            [CRT_RUNNING] = {COLOR_GREEN, -1},
            [CRT_RUNNABLE] = {COLOR_BLUE, -1},
            [CRT_WAITING] = {COLOR_WHITE, -1},
            [CRT_SYSCALL] = {COLOR_RED, -1},
            [CRT_GRAPH] = {COLOR_GREEN, -1},
            [CRT_ALERT] = {COLOR_WHITE, COLOR_RED},
            [CRT_FKEY] = {-1, -1},
            [CRT_FKEY_LABEL] = {COLOR_BLACK, COLOR_CYAN},
            [CRT_TAB] = {COLOR_BLACK, COLOR_GREEN},
            [CRT_INFO] = {COLOR_YELLOW, -1},
        };
        for (int i = 1; i < CRT_COUNT; i++) {
            init_pair((short)i, fg[i][0], fg[i][1]);
            crt_attr[i] = (int)COLOR_PAIR(i);
        }
        crt_attr[CRT_VALUE] |= A_BOLD;
        crt_attr[CRT_TITLE] |= A_BOLD;
        crt_attr[CRT_ALERT] |= A_BOLD;
        crt_attr[CRT_FKEY] |= A_BOLD;
        crt_attr[CRT_RUNNING] |= A_BOLD;
    } else {
        static const int mono_attr[CRT_COUNT] = {
            [CRT_TITLE] = A_REVERSE,      [CRT_SELECTED] = A_REVERSE,
            [CRT_TAGGED] = A_BOLD,        [CRT_VALUE] = A_BOLD,
            [CRT_RUNNING] = A_BOLD,       [CRT_SYSCALL] = A_BOLD,
            [CRT_ALERT] = A_REVERSE,      [CRT_FKEY] = A_BOLD,
            [CRT_FKEY_LABEL] = A_REVERSE, [CRT_TAB] = A_REVERSE,
            [CRT_INFO] = A_BOLD,
        };
        memcpy(crt_attr, mono_attr, sizeof crt_attr);
    }
}

void crt_print(int y, int x, int attr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (y >= 0)
        move(y, x);
    int cx = getcurx(stdscr);
    if (cx < 0 || cx >= COLS)
        return;
    attrset(attr);
    addnstr(buf, COLS - cx);
    attrset(A_NORMAL);
}

void crt_done(void)
{
    if (!active)
        return;
    active = false;
    curs_set(1);
    endwin();
}

void crt_fatal(const char *fmt, ...)
{
    crt_done();
    va_list ap;
    va_start(ap, fmt);
    fputs("gtop: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}
