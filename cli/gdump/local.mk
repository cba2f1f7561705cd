# cli/gdump/local.mk - gdump (filled in by its issue).
