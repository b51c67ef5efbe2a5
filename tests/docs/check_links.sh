#!/usr/bin/env bash
# Checks that every relative link in the repository's Markdown resolves to a file (or folder) inside
# the repository: [text](path), [text](path#anchor "title"), <path> forms and [ref]: path definitions.
# Links with a scheme (https:, mailto:, ...) and pure #anchors are not checked; links inside fenced
# code blocks and `code spans` are not links.
# usage: check_links.sh [--expect-broken=N] ROOT [FILE...]
#   FILE...           Markdown files relative to ROOT; default README.md and every docs/**/*.md
#   --expect-broken=N passes only when exactly N broken links are found: a test of this test.
# Exit 0 pass, 1 broken links (or not the expected number), 2 bad usage.
set -uo pipefail

expect=""
if [[ ${1:-} == --expect-broken=* ]]; then expect=${1#--expect-broken=}; shift; fi
if [[ $# -lt 1 || ! -d $1 ]]; then
  echo "usage: check_links.sh [--expect-broken=N] ROOT [FILE...]" >&2
  exit 2
fi
root=$(cd "$1" && pwd -P)
shift
files=("$@")
if ((${#files[@]} == 0)); then
  files=(README.md)
  if [[ -d $root/docs ]]; then
    while IFS= read -r f; do files+=("${f#"$root"/}"); done < <(find "$root/docs" -type f -name '*.md' | LC_ALL=C sort)
  fi
fi

# Prints "LINE<TAB>TARGET" for every link of a Markdown file.
extract_links() {
  awk '
    /^[ \t]*(```|~~~)/ { fence = !fence; next }
    fence { next }
    {
      line = $0
      gsub(/``[^`]*``/, "", line)
      gsub(/`[^`]*`/, "", line)
      if (match(line, /^ *\[[^]]+\]:[ \t]*[^ \t]+/)) {        # [ref]: target
        def = substr(line, RSTART, RLENGTH)
        sub(/^ *\[[^]]+\]:[ \t]*/, "", def)
        print NR "\t" def
        next
      }
      while (match(line, /\]\([^)]*\)/)) {                            # [text](target "title")
        target = substr(line, RSTART + 2, RLENGTH - 3)
        line = substr(line, RSTART + RLENGTH)
        sub(/^[ \t]+/, "", target)
        if (target ~ /^</) { sub(/^</, "", target); sub(/>.*$/, "", target) }
        else sub(/[ \t].*$/, "", target)
        print NR "\t" target
      }
    }' "$1"
}

checked=0
broken=0
for f in "${files[@]}"; do
  if [[ ! -f $root/$f ]]; then
    echo "$f: no such file"
    broken=$((broken + 1))
    continue
  fi
  dir=$(dirname "$root/$f")
  while IFS=$'\t' read -r line target; do
    [[ -z $target || $target == \#* ]] && continue
    [[ $target =~ ^[A-Za-z][A-Za-z0-9+.-]*: ]] && continue     # https:, mailto:, ...
    path=${target%%#*}
    path=${path%%\?*}
    [[ -z $path ]] && continue
    if [[ $path == /* ]]; then resolved=$(realpath -m "$root$path"); else resolved=$(realpath -m "$dir/$path"); fi
    checked=$((checked + 1))
    if [[ $resolved != "$root" && $resolved != "$root"/* ]]; then
      echo "$f:$line: broken link '$target': it leads out of the repository"
      broken=$((broken + 1))
    elif [[ ! -e $resolved ]]; then
      echo "$f:$line: broken link '$target': no file ${resolved#"$root"/}"
      broken=$((broken + 1))
    fi
  done < <(extract_links "$root/$f")
done

echo "check_links: ${#files[@]} files, $checked relative links, $broken broken"
if [[ -n $expect ]]; then
  [[ $broken == "$expect" ]] && exit 0
  echo "check_links: expected $expect broken links"
  exit 1
fi
((broken == 0))
