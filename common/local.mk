# common/local.mk - code shared by the writer (libgrt) and the readers
# (cli/): header-only helpers, and the Go-format dump writer compiled
# into both (so that every dump has one shape).
noinst_HEADERS += common/procstat.h common/dwsym.h
