#!/bin/sh
# Installs the browser tests' one npm dependency (playwright-core, pinned in
# package-lock.json) when it is missing. The browser itself is Debian's
# chromium (scripts/deps.sh test); Playwright's own downloads are not used.
set -eu
cd "$(dirname "$0")"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "setup.sh: node and npm are needed (scripts/deps.sh test installs them)" >&2
    exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
    echo "setup.sh: /usr/bin/chromium is missing (scripts/deps.sh test installs it)" >&2
    exit 1
fi
want=$(sed -n 's/.*"playwright-core": *"\([^"]*\)".*/\1/p' package.json | head -n 1)
have=""
if [ -f node_modules/playwright-core/package.json ]; then
    have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' node_modules/playwright-core/package.json | head -n 1)
fi
if [ "$have" != "$want" ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
