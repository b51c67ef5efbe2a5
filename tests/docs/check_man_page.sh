#!/usr/bin/env bash
# Checks that one man page renders without a single warning, the way Debian's lintian looks at it:
#   1. groff -man -Tutf8 -ww -z   every groff warning enabled; any output at all is a failure
#   2. man --warnings -l          man-db's own pipeline (preconv, tbl, groff) at 80 columns
#   3. lexgrog                    the NAME section can be read by mandb/whatis
# usage: check_man_page.sh [--expect-problems] PAGE
#   --expect-problems inverts the verdict (exit 0 only when a problem is found): a test of this test.
# Exit 0 pass, 1 fail, 2 a tool is missing or bad usage (never inverted).
set -uo pipefail

expect_problems=0
if [[ ${1:-} == --expect-problems ]]; then expect_problems=1; shift; fi
if [[ $# -ne 1 || ! -f $1 ]]; then
  echo "usage: check_man_page.sh [--expect-problems] PAGE (an existing file)" >&2
  exit 2
fi
page=$1
for tool in groff man lexgrog; do
  if ! command -v "$tool" >/dev/null; then
    echo "check_man_page: '$tool' is not installed (scripts/deps installs man-db and groff-base)" >&2
    exit 2
  fi
done

problems=0
report() { # NAME OUTPUT
  if [[ -n $2 ]]; then
    echo "$page: $1 said:"
    printf '%s\n' "$2" | sed 's/^/  /'
    problems=1
  fi
}

out=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1)
rc=$?
report "groff -man -Tutf8 -ww -z" "$out"
((rc == 0)) || { echo "$page: groff exited $rc"; problems=1; }

# stdout is the typeset page (discarded); anything on stderr is a warning.
out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 MAN_KEEP_FORMATTING=1 \
      man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
rc=$?
report "man --warnings -l" "$out"
((rc == 0)) || { echo "$page: man exited $rc"; problems=1; }

if ! out=$(lexgrog "$page" 2>&1); then
  report "lexgrog (no usable NAME section)" "$out"
  problems=1
fi

# The rendered text must hold the page's own sections, not an empty document.
text=$(LC_ALL=C.UTF-8 MANWIDTH=80 MAN_KEEP_FORMATTING='' man -P cat -l "$page" 2>/dev/null | sed $'s/.\b//g')
for section in NAME DESCRIPTION "SEE ALSO"; do
  grep -q "^$section\$" <<<"$text" || { echo "$page: the rendered page has no $section section"; problems=1; }
done

if ((expect_problems)); then
  if ((problems)); then echo "$page: problems found, as expected"; exit 0; fi
  echo "$page: expected problems, found none"
  exit 1
fi
((problems)) && exit 1
echo "$page: renders without warnings"
exit 0
