#!/bin/sh
# Browser test of the live view of a measuring-can run (tests/browser/live_can.mjs): Debian's
# chromium, headless, playwright-core from npm (installed here from package-lock.json when
# missing), against meterbench sim --config can-20l and meterbench run --live.
# usage: tests/browser/live_can.sh SOURCE_DIR BUILD_DIR   (screenshots: tests/artifacts/browser/)
set -eu
SRC=$(cd "$1" && pwd)
BUILD=$(cd "$2" && pwd)
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
exec node live_can.mjs "$SRC" "$BUILD" ../artifacts/browser
