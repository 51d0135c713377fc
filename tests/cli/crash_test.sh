#!/bin/sh
# Crash test, short: two sessions of one meter at Q1, Q2, Q3 on the simulated bench, each run
# killed with SIGKILL at seeded random moments (1 or 2 kills, resumed runs too) and resumed until
# complete; no committed point lost or changed, integrity_check ok, audit verify ok
# (scripts/crash-test; its full run of 20 sessions: docs/procedure.md).
# usage: crash_test.sh PATH/TO/meterbench
set -u
MB=$(realpath "$1")
cd "$(dirname "$0")/../.."
if [ ! -f vision/models/digit.onnx ] || [ ! -f vision/models/needle.onnx ]; then
	echo "SKIP: vision/models lacks digit.onnx or needle.onnx"; exit 77
fi
scripts/crash-test --runs 2 --max-kills 2 --meters 1 --seed 5 --window 3 --meterbench "$MB"
