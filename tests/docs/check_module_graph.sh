#!/usr/bin/env bash
# Checks that lib/'s rooms depend on each other one way only, as CMakeLists.txt declares them
# (h2r_module(NAME DEPS h2r_...)) and docs/architecture.md draws them:
#   - every folder directly under lib/ is a declared room, and every declared room has a folder;
#   - a room's files include headers only of itself and of the rooms it depends on, directly or through
#     another room (`#include "ROOM/..."`);
#   - no room depends on itself through others (no cycle).
# usage: check_module_graph.sh [--expect-problems] LIB_DIR GRAPH_FILE
#   GRAPH_FILE: one line per room, "room:dep,dep,..." (written by CMakeLists.txt at configure time)
#   --expect-problems passes only when problems are found: a test of this test.
# Exit 0 pass, 1 problems (or none when some were expected), 2 bad usage.
set -uo pipefail
expect=false
[[ ${1:-} == --expect-problems ]] && { expect=true; shift; }
if [[ $# -ne 2 || ! -d $1 || ! -f $2 ]]; then
  echo "usage: check_module_graph.sh [--expect-problems] LIB_DIR GRAPH_FILE" >&2
  exit 2
fi
lib=$1 graph=$2
declare -A deps
while IFS=: read -r room list; do
  [[ -n $room ]] && deps[$room]=${list//,/ }
done < "$graph"

problems=0
problem() { echo "$*"; problems=$((problems + 1)); }

# The rooms a room reaches (its dependencies, transitively), as " a b c ".
declare -A reach
reach_of() {
  local room=$1 seen=" " todo=(${deps[$1]:-}) d
  while ((${#todo[@]})); do
    d=${todo[0]}; todo=("${todo[@]:1}")
    [[ $seen == *" $d "* ]] && continue
    seen+="$d "
    todo+=(${deps[$d]:-})
  done
  reach[$room]=$seen
}
for room in "${!deps[@]}"; do
  reach_of "$room"
  [[ ${reach[$room]} == *" $room "* ]] && problem "$graph: room '$room' depends on itself (a cycle)"
  for d in ${deps[$room]}; do
    [[ -n ${deps[$d]+x} ]] || problem "$graph: room '$room' depends on '$d', which is not a room"
  done
done

for dir in "$lib"/*/; do
  room=$(basename "$dir")
  if [[ -z ${deps[$room]+x} ]]; then
    problem "$lib/$room: a folder that is not a declared room (h2r_module in CMakeLists.txt)"
    continue
  fi
  while IFS= read -r hit; do
    file=${hit%%:*}; rest=${hit#*:}; line=${rest%%:*}
    target=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^/"]*\)\/.*/\1/p' <<<"${rest#*:}")
    [[ -z $target || $target == "$room" || -z ${deps[$target]+x} ]] && continue
    [[ ${reach[$room]} == *" $target "* ]] ||
      problem "$file:$line: room '$room' includes a header of '$target', which it does not depend on"
  done < <(grep -rn --include='*.cpp' --include='*.hpp' --include='*.in' -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$dir")
done
for room in "${!deps[@]}"; do
  [[ -d $lib/$room ]] || problem "$graph: room '$room' has no folder $lib/$room"
done

if $expect; then
  ((problems > 0)) && { echo "found $problems problem(s), as expected"; exit 0; }
  echo "expected problems, found none"; exit 1
fi
((problems == 0)) && { echo "module graph: ${#deps[@]} rooms, one way, no cycle"; exit 0; }
echo "$problems problem(s)"; exit 1
