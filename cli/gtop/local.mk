# cli/gtop/local.mk - gtop (filled in by its issue).
