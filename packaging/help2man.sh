#!/bin/sh
# help2man.sh HELP2MAN OUT.1.gz PROGRAM VERSION DESCRIPTION [SUBCOMMAND...]
# The manual page of PROGRAM from its --help, gzipped as Debian wants it; each SUBCOMMAND's
# `PROGRAM SUBCOMMAND --help` is added as a section of its own (e.g. SERVE OPTIONS).
set -eu
help2man=$1 out=$2 program=$3 version=$4 description=$5
shift 5
include=$(mktemp)
page=$(mktemp)
trap 'rm -f "$include" "$page"' EXIT
name=$(basename "$program")
{
  for subcommand in "$@"; do
    echo "[$(echo "$subcommand" | tr '[:lower:]-' '[:upper:] ') OPTIONS]"
    echo ".nf"
    # roff: a leading dot or quote would start a request; a backslash is an escape.
    "$program" "$subcommand" --help | sed -e 's/\\/\\e/g' -e "s/^[.']/\\\\\&&/"
    echo ".fi"
  done
  echo "[SEE ALSO]"
  echo "The guides of the sas-host package in /usr/share/doc/sas-host/ (operations.md,"
  echo "configuration.md), and"
  echo ".B $name COMMAND --help"
  echo "for the options of each command."
} >"$include"
"$help2man" --no-info --no-discard-stderr --version-string="$version" --name="$description" \
  --section=1 --include="$include" --output="$page" "$program"
gzip -9n -c "$page" >"$out"
