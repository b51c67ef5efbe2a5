#!/usr/bin/env bash
# Checks that no namespace-scope constant (`constexpr ... k_name`, written at the start of a line in a
# header) is defined in two headers. Two `inline constexpr` variables of one name in one namespace are
# an ODR violation that neither compiler nor linker reports: the linker keeps one of them, and code
# compiled against the other reads it as its own type (a `const char*` read as a `std::string_view`
# gave a string of 2^47 bytes under ASan). One header per constant keeps that from happening again.
# usage: check_one_definition.sh [--expect-problems] DIR...
#   --expect-problems passes only when problems are found: a test of this test.
# Exit 0 pass, 1 problems (or none when some were expected), 2 bad usage.
set -uo pipefail
expect=false
[[ ${1:-} == --expect-problems ]] && { expect=true; shift; }
if [[ $# -lt 1 ]]; then
  echo "usage: check_one_definition.sh [--expect-problems] DIR..." >&2
  exit 2
fi
for d in "$@"; do [[ -d $d ]] || { echo "check_one_definition.sh: $d is not a folder" >&2; exit 2; }; done

problems=0
declare -A first
while IFS= read -r hit; do
  file=${hit%%:*}; rest=${hit#*:}; line=${rest%%:*}; text=${rest#*:}
  name=$(sed -E 's/^.*\b(k_[A-Za-z0-9_]+)[[:space:]]*(\[\])?[[:space:]]*[={].*$/\1/' <<<"$text")
  [[ $name == k_* ]] || continue
  if [[ -n ${first[$name]+x} && ${first[$name]%%:*} != "$file" ]]; then
    echo "$file:$line: $name is also defined at ${first[$name]}; define it in one header and include that"
    problems=$((problems + 1))
  else
    first[$name]="$file:$line"
  fi
done < <(grep -rnE --include='*.hpp' '^(inline[[:space:]]+)?(static[[:space:]]+)?constexpr[^(;]*\bk_[A-Za-z0-9_]+[[:space:]]*(\[\])?[[:space:]]*[={]' "$@" | sort)

if $expect; then
  ((problems > 0)) && { echo "check_one_definition.sh: found $problems, as expected"; exit 0; }
  echo "check_one_definition.sh: expected problems, found none" >&2
  exit 1
fi
((problems == 0)) || exit 1
echo "check_one_definition.sh: every namespace-scope constant is defined once"
