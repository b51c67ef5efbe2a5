#!/usr/bin/env bash
# Checks that every repository path cited in the repository's tracked files exists: a comment's
# "lib/zoom/token_cache.hpp", a doc's "docs/operations.md", a script's "tests/docs/…". A cited path is
# a word that starts with one of the repository's top-level folders (lib/, docs/, tests/, …) or names a
# Markdown file ("operations.md"); `*` in a cited path is a glob ("lib/console/console_*"), and a trailing
# "#anchor" or ":line" is not part of it. A Markdown name without a folder must be a tracked file's name.
# usage: check_cited_paths.sh [--expect-missing=N] ROOT
#   --expect-missing=N passes only when exactly N cited paths are missing: a test of this test.
# Exit 0 pass, 1 missing paths (or not the expected number), 2 bad usage.
set -uo pipefail
expect=""
[[ ${1:-} == --expect-missing=* ]] && { expect=${1#--expect-missing=}; shift; }
if [[ $# -ne 1 || ! -d $1 ]]; then
  echo "usage: check_cited_paths.sh [--expect-missing=N] ROOT" >&2
  exit 2
fi
root=$(cd "$1" && pwd -P)
cd "$root" || exit 2
if git -C "$root" rev-parse --show-toplevel >/dev/null 2>&1 &&
   [[ $(git -C "$root" rev-parse --show-toplevel) == "$root" ]]; then
  mapfile -t files < <(git ls-files --cached --others --exclude-standard)
else
  mapfile -t files < <(find . -type f -not -path './.git/*' | sed 's|^\./||' | LC_ALL=C sort)
fi
# Files that cite paths of other trees on purpose: this checker's own fixtures (and the link checker's),
# and the benchmark history (it names files as they were when each round was measured).
keep=()
for f in "${files[@]}"; do
  case "$f" in
    tests/docs/fixtures/*|BENCHMARKS.md|*.png|*.jpg|*/package-lock.json|tests/fuzz/corpus/*) ;;
    *) [[ -f $f ]] && keep+=("$f") ;;
  esac
done
declare -A names=()
for f in "${files[@]}"; do names[$(basename "$f")]=1; done

tops='lib|docs|tests|scripts|config|cmake|h2rd|packaging|systemd|bench|\.ci'
# Words that look like repository paths and are not: install destinations relative to a prefix, and
# the placeholder of a comment.
not_cited=" lib/systemd/system lib/sysusers.d lib/tmpfiles.d docs/man/NAME.N "
shopt -s globstar nullglob
# A path cited relative to the repository, to lib/ (an #include) or to tests/ (a test's #include);
# "lib/zoom/user_fields" may name a file's stem.
exists() {
  local base
  for base in "" lib/ tests/; do
    if [[ $1 == *'*'* ]]; then
      compgen -G "$base$1" >/dev/null && return 0
    else
      [[ -e $base$1 ]] && return 0
      compgen -G "$base$1.*" >/dev/null && return 0
    fi
  done
  return 1
}
missing=0
checked=0
for file in "${keep[@]}"; do
  # groff writes a hyphen as \-
  while IFS= read -r hit; do
    line=${hit%%:*}; path=${hit#*:}
    path=${path#[^A-Za-z0-9_.]}
    path=${path%%#*}
    path=${path%.}
    [[ $not_cited == *" $path "* ]] && continue
    checked=$((checked + 1))
    if [[ $path != */* ]]; then                        # a bare Markdown name
      [[ -n ${names[$path]+x} ]] && continue
    else
      exists "$path" && continue
    fi
    echo "$file:$line: cites $path, which is not in the repository"
    missing=$((missing + 1))
  done < <(sed 's/\\-/-/g' "$file" |
           grep -n -o -I -E "(^|[^A-Za-z0-9_./\$<{-])(($tops)/[A-Za-z0-9_.*/-]*[A-Za-z0-9_*]|[A-Za-z0-9_-]+\.md\b)")
done

if [[ -n $expect ]]; then
  ((missing == expect)) && { echo "found $missing missing path(s), as expected"; exit 0; }
  echo "expected $expect missing path(s), found $missing"; exit 1
fi
((missing == 0)) && { echo "cited paths: $checked checked in ${#keep[@]} files, all present"; exit 0; }
echo "$missing cited path(s) missing"; exit 1
