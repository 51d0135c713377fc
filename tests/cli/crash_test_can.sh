#!/bin/sh
# Crash test of measuring-can sessions, short: two sessions of a 20 L can (2 runs each) on the
# simulated can bench, each run killed with SIGKILL at seeded random moments (1 or 2 kills,
# resumed runs too), the simulator's clock advanced with the valves as the dead run left them,
# and resumed with --resume until complete: no recorded run lost or changed, integrity_check
# ok, audit verify ok, meterbench report regenerates results.json byte for byte
# (scripts/crash-test --can; its full run: docs/can-resume.md).
# usage: crash_test_can.sh PATH/TO/meterbench
set -u
MB=$(realpath "$1")
cd "$(dirname "$0")/../.."
scripts/crash-test --can --can-runs 2 --runs 2 --max-kills 2 --seed 7 --window 1.5 --verbose --meterbench "$MB"
