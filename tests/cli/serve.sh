#!/bin/sh
# meterbench serve: bad input gets one clear line and exit 2; an empty records file has no session.
# usage: serve.sh PATH/TO/meterbench
set -u
MB=$1
fails=0
check() {   # check NAME EXPECTED ACTUAL
	if [ "$2" != "$3" ]; then
		echo "FAIL $1"; echo "  expected: $2"; echo "  actual:   $3"; fails=$((fails + 1))
	else
		echo "ok   $1"
	fi
}
expect_exit() {   # expect_exit NAME CODE STDERR-SUBSTRING -- args...
	name=$1 code=$2 want=$3; shift 4
	err=$("$MB" "$@" 2>&1 >/dev/null); rc=$?
	check "$name: exit" "$code" "$rc"
	case "$err" in *"$want"*) echo "ok   $name: message";; *) echo "FAIL $name: message '$err' lacks '$want'"; fails=$((fails + 1));; esac
	case "$err" in "meterbench: "*) ;; *) echo "FAIL $name: no 'meterbench: ' prefix"; fails=$((fails + 1));; esac
}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
expect_exit "no --db" 2 "missing --db" -- serve
expect_exit "unreadable db" 2 "cannot read" -- serve --db "$dir/none.sqlite"
touch "$dir/empty.sqlite"
expect_exit "no session" 2 "no session" -- serve --db "$dir/empty.sqlite"
expect_exit "bad speed" 2 "--speed" -- serve --db "$dir/empty.sqlite" --speed 0
expect_exit "bad viewers" 2 "--max-viewers" -- serve --db "$dir/empty.sqlite" --max-viewers 2.5
expect_exit "unknown session" 2 "no session nope" -- serve --db "$dir/empty.sqlite" --session nope
[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
