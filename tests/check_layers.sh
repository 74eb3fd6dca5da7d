#!/usr/bin/env bash
# The layers below actors/ never include CAF: store/ (data, log and snapshot formats), net/
# (protocol) and commands/ (the command table and families). Fails, naming the files, when
# one does.
set -u
cd "$(dirname "$0")/.."
found=$(grep -rlE '#include *[<"]caf/' store net commands 2>/dev/null)
if [ -n "$found" ]; then
  echo "CAF included in a layer that must not know it:"
  echo "$found"
  exit 1
fi
echo "layers: no CAF include in store/, net/ or commands/"
