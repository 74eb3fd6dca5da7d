#!/usr/bin/env bash
# The layers below actors/ never include CAF: store/ (data, log and snapshot formats), net/
# (protocol), cluster/ (slots, the cluster file) and commands/ (the command table and families). Fails, naming the files, when
# one does, or when an error reply is built outside commands/errors.hpp.
set -u
cd "$(dirname "$0")/.."
found=$(grep -rlE '#include *[<"]caf/' store net commands cluster 2>/dev/null)
if [ -n "$found" ]; then
  echo "CAF included in a layer that must not know it:"
  echo "$found"
  exit 1
fi
# Every error text of the command layer and the front ends lives in commands/errors.hpp.
found=$(grep -rl 'reply::error(' commands actors net store | grep -vx 'commands/errors.hpp')
if [ -n "$found" ]; then
  echo "error reply built outside commands/errors.hpp (add it there):"
  grep -Hn 'reply::error(' $found
  exit 1
fi
echo "layers: no CAF include in store/, net/, cluster/ or commands/; error texts only in commands/errors.hpp"
