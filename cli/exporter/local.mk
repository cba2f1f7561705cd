# cli/exporter/local.mk - exporter (filled in by its issue).
