#!/usr/bin/env bash
# Runs the tests that touch the runtime most — the state store (node:sqlite), crashes during
# month-end, the daemon, the lease, the CLI as a process, the packed tool — on another Node.js,
# taken from the npm registry like the pinned one: `bash scripts/test-on-node.sh 26.10.0`.
# Needs `npm ci` and `npm run build` first.
set -euo pipefail
cd "$(dirname "$0")/.."
version="${1:?usage: scripts/test-on-node.sh NODE_VERSION (e.g. 22.23.3)}"
prefix="${TMPDIR:-/tmp}/cwsync-node-$version"
if [ ! -x "$prefix/node_modules/node/bin/node" ]; then
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel error "node@$version"
fi
bin="$prefix/node_modules/node/bin"
echo "== the runtime tests on $("$bin/node" --version)"
# PATH first: the CLI's `#!/usr/bin/env node` in child processes must find this Node too
PATH="$bin:$PATH" "$bin/node" node_modules/vitest/vitest.mjs run \
  src/adapters/state-sqlite test/state-fixture.test.ts test/state-lease.test.ts test/crash.test.ts \
  test/daemon.test.ts test/reconcile.test.ts test/send-now.test.ts test/simulated-month.test.ts \
  test/cli-process.test.ts test/package.test.ts src/cli/node-version.test.ts
