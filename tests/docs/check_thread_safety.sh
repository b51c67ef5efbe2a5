#!/usr/bin/env bash
# Checks that clang's thread-safety analysis, with the annotations of lib/core/mutex.hpp, refuses code
# that breaks a locking rule and accepts code that keeps them: the check `scripts/build thread-safety`
# relies on cannot pass by having nothing to say.
#   tests/docs/fixtures/thread-safety/locked.cpp    must compile (-Wthread-safety -Werror);
#   tests/docs/fixtures/thread-safety/unlocked.cpp  must fail with exactly EXPECTED thread-safety errors.
# usage: check_thread_safety.sh SOURCE_DIR EXPECTED
# Exit 0 pass, 1 fail, 2 bad usage. Without clang++ it says SKIPPED (clang) and exits 0.
set -uo pipefail
if [[ $# -ne 2 || ! -f $1/lib/core/mutex.hpp || ! $2 =~ ^[0-9]+$ ]]; then
  echo "usage: check_thread_safety.sh SOURCE_DIR EXPECTED" >&2
  exit 2
fi
src=$1 expected=$2
clang=${CLANGXX:-clang++}
if ! command -v "$clang" >/dev/null; then
  echo "SKIPPED (clang): $clang is not installed (scripts/deps --all installs it)"
  exit 0
fi
fixtures=$src/tests/docs/fixtures/thread-safety
compile() { "$clang" -std=c++20 -fsyntax-only -Wthread-safety -Werror -I "$src/lib" "$1" 2>&1; }

failed=0
if ! out=$(compile "$fixtures/locked.cpp"); then
  echo "FAIL: locked.cpp keeps every rule but clang refused it:"
  echo "$out"
  failed=1
fi
out=$(compile "$fixtures/unlocked.cpp")
status=$?
found=$(grep -c 'error: .*\[-Werror,-Wthread-safety' <<<"$out")
if [[ $status -eq 0 || $found -ne $expected ]]; then
  echo "FAIL: unlocked.cpp breaks $expected rules; clang exited $status with $found thread-safety errors:"
  echo "$out"
  failed=1
else
  echo "ok: clang refused unlocked.cpp with $found thread-safety errors:"
  grep 'error: ' <<<"$out"
fi
exit $failed
