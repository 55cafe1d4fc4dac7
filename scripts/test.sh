#!/usr/bin/env bash
# The whole test suite, as CI runs it: the systemd unit check, the Python (pyzmq)
# client against a real daemon, then `swift test` (unit and end-to-end tests that
# start the real latentd and talk to it over ZeroMQ). swift test runs last so its
# summary line closes the output.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

swift build --build-tests
bin="$(swift build --show-bin-path)"
echo "== systemd unit"
scripts/verify-unit.sh
echo "== Python client against the daemon"
LATENTD="$bin/latentd" scripts/test_python_client.sh
echo "== swift test"
swift test --skip-build
