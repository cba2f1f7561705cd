#!/bin/sh
# autogen.sh - generate configure and the Makefile.in files (never committed).
set -e
cd "$(dirname "$0")"
mkdir -p m4
exec autoreconf -fi
