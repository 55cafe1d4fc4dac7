#!/usr/bin/env bash
# End-to-end check with a real Python client (used by CI):
#   1. a fresh venv with pyzmq in a temporary directory;
#   2. config/latentd.yaml with state_dir and the three tcp ports moved to a
#      temporary directory and free ports;
#   3. `latentd run` in the background, scripts/client_example.py against it
#      (it fails unless every observation it sent got a posterior), then
#      scripts/hmm_client_example.py against the same daemon's `activity` HMM
#      (it fails unless every reading got a posterior and every ended sequence
#      its viterbi/ message);
#   4. SIGTERM: latentd must exit 0 and leave a readable checkpoint per model.
#
# Usage: [LATENTD=path/to/latentd] scripts/test_python_client.sh
# LATENTD defaults to .build/debug/latentd in the repository.
# Needs python3 with the venv module (Debian: python3-venv) and network access
# for `pip install pyzmq` (set PIP_INDEX_URL etc. as usual for a mirror).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
latentd="${LATENTD:-$root/.build/debug/latentd}"
case "$latentd" in /*) ;; *) latentd="$PWD/$latentd" ;; esac

fail() { echo "test_python_client: FAIL: $*" >&2; exit 1; }
step() { echo "test_python_client: $*"; }

[[ -x "$latentd" ]] || fail "no latentd binary at $latentd (swift build, or set LATENTD)"
command -v python3 >/dev/null || fail "python3 not found"

work="$(mktemp -d)"
daemon_pid=""
cleanup() {
    if [[ -n "$daemon_pid" ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -KILL "$daemon_pid" 2>/dev/null || true
        wait "$daemon_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "creating a venv with pyzmq in $work/venv"
python3 -m venv "$work/venv" >"$work/venv.log" 2>&1 \
    || { cat "$work/venv.log" >&2; fail "python3 -m venv failed (Debian: apt-get install python3-venv)"; }
"$work/venv/bin/pip" install --quiet --disable-pip-version-check pyzmq >"$work/pip.log" 2>&1 \
    || { cat "$work/pip.log" >&2; fail "pip install pyzmq failed"; }
python="$work/venv/bin/python"

# Three ports that are free right now (the kernel picks them).
read -r in_port out_port ctl_port < <("$python" - <<'EOF'
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
for s in socks:
    s.close()
EOF
)
state="$work/state"
config="$work/latentd.yaml"
sed -e "s#^state_dir: .*#state_dir: $state#" \
    -e "s#tcp://127.0.0.1:5555#tcp://127.0.0.1:$in_port#" \
    -e "s#tcp://127.0.0.1:5556#tcp://127.0.0.1:$out_port#" \
    -e "s#tcp://127.0.0.1:5557#tcp://127.0.0.1:$ctl_port#" \
    "$root/config/latentd.yaml" >"$config"
for want in "state_dir: $state" ":$in_port" ":$out_port" ":$ctl_port"; do
    grep -qF "$want" "$config" || fail "could not rewrite config/latentd.yaml (no \"$want\" in $config)"
done
"$latentd" check-config --config "$config" >/dev/null || fail "the rewritten config does not validate: $("$latentd" check-config --config "$config")"

step "starting latentd (input $in_port, output $out_port, control $ctl_port)"
"$latentd" run --config "$config" 2>"$work/latentd.log" &
daemon_pid=$!
for _ in $(seq 100); do
    grep -q "latentd ready" "$work/latentd.log" && break
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/latentd.log" >&2; fail "latentd exited during start-up"; }
    sleep 0.1
done
grep -q "latentd ready" "$work/latentd.log" || { cat "$work/latentd.log" >&2; fail "latentd not ready after 10 s"; }

count=1000
step "running scripts/client_example.py ($count observations)"
"$python" "$root/scripts/client_example.py" \
    --input "tcp://127.0.0.1:$in_port" --output "tcp://127.0.0.1:$out_port" \
    --control "tcp://127.0.0.1:$ctl_port" --topic sensors/room1 --model room1 --count "$count" \
    || { code=$?; cat "$work/latentd.log" >&2; fail "client_example.py failed (exit $code)"; }

hmm_sequences=6 hmm_length=100
step "running scripts/hmm_client_example.py ($hmm_sequences sequences of $hmm_length readings)"
"$python" "$root/scripts/hmm_client_example.py" \
    --input "tcp://127.0.0.1:$in_port" --output "tcp://127.0.0.1:$out_port" \
    --control "tcp://127.0.0.1:$ctl_port" --topic sensors/activity --model activity \
    --sequences "$hmm_sequences" --length "$hmm_length" \
    || { code=$?; cat "$work/latentd.log" >&2; fail "hmm_client_example.py failed (exit $code)"; }

step "stopping latentd with SIGTERM"
kill -TERM "$daemon_pid"
status=""
for _ in $(seq 300); do
    if ! kill -0 "$daemon_pid" 2>/dev/null; then
        status=0
        wait "$daemon_pid" || status=$?
        break
    fi
    sleep 0.1
done
[[ -n "$status" ]] || { cat "$work/latentd.log" >&2; fail "latentd still running 30 s after SIGTERM"; }
daemon_pid=""
[[ "$status" == 0 ]] || { cat "$work/latentd.log" >&2; fail "latentd exited with status $status after SIGTERM (expected 0)"; }

shopt -s nullglob
newest_files=()
# Each model's newest checkpoint must read back and hold what its client sent.
for entry in "room1 $count" "activity $((hmm_sequences * hmm_length))"; do
    read -r model sent <<<"$entry"
    checkpoints=("$state"/"$model".*.ckpt)
    (( ${#checkpoints[@]} > 0 )) || { ls -la "$state" >&2 || true; fail "no checkpoint $model.*.ckpt in $state after SIGTERM"; }
    newest="${checkpoints[-1]}"
    "$latentd" inspect "$newest" >"$work/inspect.json" || fail "latentd inspect $newest: the checkpoint does not read back"
    "$python" - "$work/inspect.json" "$sent" "$model" <<'EOF' || fail "checkpoint $newest does not hold the $sent observations sent"
import json, sys
state = json.load(open(sys.argv[1]))["state"]
print(f"test_python_client: {sys.argv[3]} checkpoint: version {state['version']}, n={state['n']}")
sys.exit(0 if state["n"] >= int(sys.argv[2]) and state["params"] is not None else 1)
EOF
    newest_files+=("$(basename "$newest")")
done

step "OK: posteriors for every id and reading, viterbi/ for every sequence, exit 0 on SIGTERM, checkpoints ${newest_files[*]}"
