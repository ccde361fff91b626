#!/bin/sh
# Runs each unit-test binary given; sums their "N passed, N failed" lines.
pass=0; fail=0; status=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
	f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$p" ] || { p=0; f=1; }
	if [ $rc -ne 0 ]; then status=1; printf '%s\n' "$out" | tail -20; [ "$f" -gt 0 ] || f=1; fi
	echo "  $(basename "$t"): $p passed, $f failed"
	pass=$((pass + p)); fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
[ $status -eq 0 ] && [ $fail -eq 0 ]
