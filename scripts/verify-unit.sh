#!/usr/bin/env bash
# Checks systemd/latentd.service (SPEC §7):
#  1. `systemd-analyze verify` reports nothing about the unit;
#  2. `systemd-analyze security --offline` exposure stays at or below 2.0.
#
# verify insists that ExecStart= exists, and /usr/local/bin/latentd is not
# installed where this runs, so a copy of the unit is checked with ExecStart=
# pointing at a binary that exists: the built latentd if there is one, else
# /bin/true. Everything else in the unit is checked as shipped.
#
# Usage: scripts/verify-unit.sh [path/to/latentd.service]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
unit="${1:-$root/systemd/latentd.service}"
max_exposure_tenths=20   # 2.0

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "verify-unit: systemd-analyze not found (Debian package: systemd)" >&2
    exit 1
fi

binary=/bin/true
for candidate in "$root/.build/release/latentd" "$root/.build/debug/latentd"; do
    if [[ -x "$candidate" ]]; then binary="$candidate"; break; fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
name="$(basename "$unit")"
sed -E "s|^ExecStart=[^ ]+|ExecStart=$binary|" "$unit" > "$work/$name"

status=0
# verify prints problems on stderr and may exit 0 on warnings; judge by output.
out="$(systemd-analyze verify "$work/$name" 2>&1 || true)"
if grep -F "$name" <<<"$out" >/dev/null; then
    echo "verify-unit: systemd-analyze verify reported problems:" >&2
    echo "$out" >&2
    status=1
else
    echo "verify-unit: systemd-analyze verify: OK (ExecStart=$binary)"
fi

if security="$(systemd-analyze security --offline=true --threshold="$max_exposure_tenths" "$work/$name" 2>&1)"; then
    echo "verify-unit: $(grep -F 'Overall exposure level' <<<"$security" | sed 's/^→ //')"
else
    echo "verify-unit: systemd-analyze security failed or exposure above 2.0:" >&2
    echo "$security" | grep -E '✗|Overall|rror' >&2 || echo "$security" >&2
    status=1
fi
exit "$status"
