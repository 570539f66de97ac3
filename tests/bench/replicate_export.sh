#!/usr/bin/env bash
# A big export made of COPIES copies of a small one, in seconds rather than the generator's
# hour at 10M tasks: each copy's task ids, and free-form tag suffixes, get the copy number
# appended, so every task and tag is new while the users stay the same (a giant user grows).
# Usage: tests/bench/replicate_export.sh SOURCE_EXPORT DEST_EXPORT COPIES
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 SOURCE_EXPORT DEST_EXPORT COPIES" >&2
  exit 2
fi
source_export=$1 dest_export=$2 copies=$3
mkdir -p "$dest_export.partial/data"
for copy in $(seq 0 $((copies - 1))); do
  for file in "$source_export"/data/*.json.gz; do
    zcat "$file" \
      | sed -e "s/\(\"task_id\": {\"S\": \"[^\"]*\)\"/\1-$copy\"/" \
        -e "s/\(-[0-9a-f]\{10\}\)\"/\1$copy\"/g" \
      | gzip -1 >"$dest_export.partial/data/copy$copy-$(basename "$file")"
  done
done
mv "$dest_export.partial" "$dest_export"
