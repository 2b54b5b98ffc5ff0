#!/usr/bin/env bash
# kafka.embedded_port: the embedded broker of `malpro serve` listens where the configuration
# says, says so in its start line, serves the Kafka protocol there (kcat lists its topics), and
# comes back on the same address after a restart; `malpro broker` too. A port that is taken
# is refused with the setting named.
# Usage: embedded_port_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

use_config_copy
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
sed -i -e "/^\[kafka\]/,/^\[/ s/^embedded_port = 0$/embedded_port = $port/" "$config"
grep -q "^embedded_port = $port$" "$config" || fail "the configuration has no kafka.embedded_port"

for round in 1 2; do
  start_malpro "$work/data" "serve$round" serve
  grep -q "kafka: embedded broker at 127.0.0.1:$port " "$work/serve$round.log" ||
    fail "round $round: the broker is not at port $port: $(grep kafka "$work/serve$round.log")"
  listed="$(timeout 20 kcat -b "127.0.0.1:$port" -L 2>&1)" || fail "kcat -L: $listed"
  grep -q 'topic "malpro.events"' <<<"$listed" || fail "round $round: no events topic: $listed"
  grep -q "127.0.0.1:$port" <<<"$listed" || fail "round $round: the broker advertises another address: $listed"
  stop_server
done

# Taken: refused, naming the setting, and nothing served.
python3 -c "
import socket, time
s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(); time.sleep(15)" &
holder=$!
sleep 0.5
if "$malpro" -c "$config" -d "$work/data" -p 0 serve > "$work/taken.log" 2>&1; then
  fail "serve started with its broker's port taken"
fi
kill "$holder" 2>/dev/null || true
grep -q 'kafka.embedded_port' "$work/taken.log" || fail "the refusal: $(cat "$work/taken.log")"

# `malpro broker` takes the same setting.
"$malpro" -c "$config" broker > "$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 1 100); do
  grep -q 'embedded Kafka broker at' "$work/broker.log" && break
  sleep 0.1
done
kill -TERM "$broker_pid"
wait "$broker_pid" || true
grep -q "embedded Kafka broker at 127.0.0.1:$port " "$work/broker.log" ||
  fail "malpro broker: $(cat "$work/broker.log")"
echo "embedded port: $port kept across restarts, refused when taken, used by malpro broker"
