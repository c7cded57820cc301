#!/bin/bash
# repeat.sh MODE [N] boots the lab VM N times (default 5) in MODE (any mode
# of `lab.sh e2e`) and reports how many reached the payload, with each
# boot's time. It exists to show that no boot is missed (proxyDHCP replies
# must come fast enough for iPXE every time). Exit 0 only if all passed.
set -u
mode=${1:?usage: repeat.sh MODE [N]}
n=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
pass=0
for i in $(seq 1 "$n"); do
	out=$("$here/lab.sh" e2e "$mode" 2>&1)
	if [ $? -eq 0 ]; then
		pass=$((pass + 1))
		echo "boot $i/$n: $(grep -o 'PASS: .* in [0-9.]*s' <<<"$out")"
	else
		echo "boot $i/$n: FAIL"
		tail -n 40 <<<"$out"
	fi
done
echo "$mode: $pass of $n boots reached the payload"
[ "$pass" -eq "$n" ]
