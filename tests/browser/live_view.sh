#!/bin/sh
# Browser test of the live view (tests/browser/live_view.mjs): Debian's chromium, headless,
# driven by playwright-core from npm, installed here from package-lock.json when missing.
# usage: tests/browser/live_view.sh BUILD_DIR   (screenshots: tests/artifacts/browser/)
set -eu
BUILD=$(cd "$1" && pwd)
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
exec node live_view.mjs "$BUILD" ../artifacts/browser
