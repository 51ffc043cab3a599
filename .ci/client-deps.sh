#!/usr/bin/env bash
# The typed client compiles the wire shapes, not the server: its normal dependencies hold no
# hyper server, no store (rustix), no codec (image, rxing, zip, qrcode), and few crates in all.
set -euo pipefail
cd "$(dirname "$0")/.."

max_crates=50
tree=$(cargo tree -p cloudcoin-client -e normal --prefix none --locked)
crates=$(sed 's/ (\*)//; s/ (proc-macro)//' <<<"$tree" | awk '{print $1}' | sort -u)
count=$(wc -l <<<"$crates")
echo "cloudcoin-client: $count unique crates in its normal dependency tree (at most $max_crates)"

status=0
for banned in cloudcoin-api cloudcoin-tasks cloudcoin-codec rustix image rxing zip qrcode png; do
    if grep -qx "$banned" <<<"$crates"; then
        echo "cloudcoin-client depends on $banned:" >&2
        cargo tree -p cloudcoin-client -e normal -i "$banned" --locked >&2
        status=1
    fi
done
features=$(cargo tree -p cloudcoin-client -e normal,features -i hyper --locked)
if grep -q 'hyper feature "server"' <<<"$features" ||
    cargo tree -p cloudcoin-client -e normal,features -i hyper-util --locked | grep -q 'hyper-util feature "server'; then
    echo "cloudcoin-client builds hyper's server (a workspace dependency turns it on?)" >&2
    status=1
fi
if [ "$count" -gt "$max_crates" ]; then
    echo "cloudcoin-client needs $count crates, more than $max_crates:" >&2
    echo "$crates" >&2
    status=1
fi
exit $status
