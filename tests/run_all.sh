#!/bin/sh
# The whole test suite: unit tests, the same under ASan/UBSan, then the
# end-to-end tests on the real kernel (root). Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
pass=0; fail=0

count() { # $1 = output of a stage, adds its last "N passed, N failed"
	line=$(printf '%s\n' "$1" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
	p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
	f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	[ -n "$p" ] || { p=0; f=1; }
	pass=$((pass + p)); fail=$((fail + f))
}

echo "== unit tests"
out=$(make -s unit 2>&1); rc=$?; printf '%s\n' "$out" | tail -12
count "$out"; [ $rc -eq 0 ] || [ "$fail" -gt 0 ] || fail=$((fail + 1))

echo "== unit tests under ASan/UBSan"
out=$(make -s SAN=1 unit 2>&1); rc=$?; printf '%s\n' "$out" | tail -12
count "$out"; [ $rc -eq 0 ] || [ "$fail" -gt 0 ] || fail=$((fail + 1))

echo "== end-to-end tests (real kernel, runc containers)"
if [ "$(id -u)" -ne 0 ]; then
	echo "end-to-end tests need root"; fail=$((fail + 1))
else
	mkdir -p build
	/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e tests/tools --junitxml=build/e2e.xml 2>&1 | tail -40
	res=$(/usr/bin/python3 - <<'PY'
import xml.etree.ElementTree as ET
try:
    r = ET.parse("build/e2e.xml").getroot()
    s = r if r.tag == "testsuite" else r.find("testsuite")
    t, f, e, sk = (int(s.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    print(f"e2e: {t - f - e - sk} passed, {f + e} failed")
except Exception as ex:
    print(f"e2e: 0 passed, 1 failed ({ex})")
PY
)
	echo "$res"; count "$res"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
