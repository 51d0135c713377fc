#!/bin/sh
# Browser test of the live view (tests/browser/live_view.mjs): Debian's chromium, headless,
# driven by playwright-core from npm, installed here from package-lock.json when missing,
# against a demo dispute appraisal on the simulator (meterbench sim + meterbench run --live).
# usage: tests/browser/live_view.sh SOURCE_DIR BUILD_DIR   (screenshots: tests/artifacts/browser/)
set -eu
SRC=$(cd "$1" && pwd)
BUILD=$(cd "$2" && pwd)
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
exec node live_view.mjs "$SRC" "$BUILD" ../artifacts/browser
