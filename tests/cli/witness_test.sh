#!/usr/bin/env bash
# Witnesses of the log (C2SP tlog-witness, cosignature/v1), end to end over real processes on
# 127.0.0.1: `malpro witness` and `malpro bank-sim --witness-key` run, and `malpro demo` with
# both in [[transparency.witnesses]] (witnesses_required = 2) serves checkpoints that carry
# both cosignatures. An order's proof checks with `malpro audit check-proof` against both
# witness keys and against the config's, and fails when one trusted key is another witness's,
# or a key of a trusted witness's name that is not its own. The witness answers the protocol's
# refusals: 409 (text/x.tlog.size, the size it cosigned) for a stale old size, 404 for an unknown
# origin, 403 for a signature that does not verify, 400 for garbage, 422 for a bad proof, 409 for
# a fork (a checkpoint of the size it cosigned with another root, signed by the log's key). With
# the bank's witness stopped, the log grows and says once that it was not cosigned (the metric
# falls to 1); the bank's witness restarted on its state still knows what it cosigned, the log
# says it cosigns again, and the checkpoint carries 2 cosignatures again. Stopped, `malpro audit
# verify --since-checkpoint` takes the 2-cosigned checkpoint and refuses the 1-cosigned one, and
# the restarted witness still knows the latest size it cosigned.
# Usage: witness_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$(realpath "$1")"
source_dir="$(realpath "$2")"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$work"

keys="$source_dir/config/trial-keys"
log_vkey="$(cat "$keys/checkpoint.vkey")"
log_origin=malangkota.go.id/malpro
witness_name=malangkota.go.id/witness-trial
bank_name=bankjatim.co.id/witness-sim
operator=(-H "Authorization: Bearer dev-operator")
dash=$'\xe2\x80\x94'  # the em dash that starts a note's signature lines

# The witnesses and bank simulators this test starts, stopped with the server on exit.
helper_pids=()
stop_all() {
  for pid in "${helper_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  cleanup
}
trap stop_all EXIT

# Starts `malpro ARGS...` in the background, its stdout in $work/NAME.log and stderr in
# $work/NAME.err, and returns once its stdout has a line matching PATTERN; sets started_pid.
start_helper() {  # name pattern args...
  local name="$1" pattern="$2"
  shift 2
  "$malpro" "$@" > "$work/$name.log" 2> "$work/$name.err" &
  started_pid=$!
  helper_pids+=("$started_pid")
  for _ in $(seq 150); do
    grep -q "$pattern" "$work/$name.log" 2>/dev/null && return 0
    kill -0 "$started_pid" 2>/dev/null || break  # it exited: one last look, below
    sleep 0.1
  done
  grep -q "$pattern" "$work/$name.log" 2>/dev/null && return 0
  fail "'malpro $*' did not start: $(cat "$work/$name.log" "$work/$name.err")"
}

# Stops a process started by start_helper (SIGTERM) and waits for it.
stop_helper() {  # pid
  kill -TERM "$1"
  wait "$1" || true
}

# The bank simulator with its witness on PORT (0: any free one), keeping its state in
# $work/bank-state; output in $work/NAME.log and .err; sets started_pid.
start_bank() {  # name port
  start_helper "$1" '^malpro bank-sim: running' -c "$config" bank-sim --listen-port "$2" \
    --client-public-key "$keys/malpro_public.pem" --bank-private-key "$keys/bank_private.pem" \
    --state-dir "$work/bank-state" --witness-key "$keys/bank_witness_private.pem" \
    --witness-log "$keys/checkpoint.vkey"
}

# The verifier key (C2SP signed-note, type 0x04: cosignature/v1) of the Ed25519 key in PEM under
# NAME, computed here, independently of malpro.
cosigner_vkey() {  # pem name
  openssl pkey -in "$1" -pubout -outform DER | python3 -c '
import base64, hashlib, sys
key, name = sys.stdin.buffer.read()[-32:], sys.argv[1]
key_id = hashlib.sha256(name.encode() + b"\n\x04" + key).digest()[:4].hex()
encoded = base64.b64encode(b"\x04" + key).decode()
print(name + "+" + key_id + "+" + encoded)' "$2"
}

# The value of the metric NAME on the server's /metrics (empty when absent).
metric() {  # name
  local metrics
  metrics="$(curl -fsS "$api/metrics")" || fail "GET /metrics failed"
  sed -n "s/^$1 \([0-9.e+]*\)$/\1/p" <<<"$metrics"
}

# Fetches the latest checkpoint into FILE until it carries COUNT cosignature lines and, when
# given, is larger than AFTER_SIZE (150 tries, 0.1 s apart).
wait_checkpoint() {  # file count [after_size]
  local lines
  for _ in $(seq 150); do
    if [ "$(curl -s -o "$1" -w '%{http_code}' "$api/tlog/checkpoint")" = 200 ]; then
      lines="$(cosignature_lines "$1")"
      [ "$lines" -eq "$2" ] && [ "$(sed -n 2p "$1")" -gt "${3:-0}" ] && return 0
    fi
    sleep 0.1
  done
  fail "no checkpoint larger than ${3:-0} with $2 cosignatures: $(cat "$1")"
}

# How many lines of FILE are signatures by either witness.
cosignature_lines() {  # file
  grep -c "^$dash \($witness_name\|$bank_name\) " "$1" || true
}

# POSTs the add-checkpoint body in FILE to URL; the answer's status in $status, its headers in
# $work/answer.headers, its body in $work/answer.body.
add_checkpoint() {  # url file
  status="$(curl -s -D "$work/answer.headers" -o "$work/answer.body" -w '%{http_code}' \
    -X POST -H 'Content-Type: text/plain' --data-binary "@$2" "$1")"
}

# Runs `malpro ARGS...`; its stdout in $work/run.out, stderr in $work/run.err, exit status in $code.
# Waits up to 15 s for a line of FILE matching PATTERN (grep); fails (1) when none comes.
wait_line() {  # pattern file
  for _ in $(seq 150); do
    grep -q "$1" "$2" && return 0
    sleep 0.1
  done
  return 1
}

run() {
  set +e
  "$malpro" "$@" > "$work/run.out" 2> "$work/run.err"
  code=$?
  set -e
}

# 1. The two witnesses, then the log with both; its checkpoints carry both cosignatures.
witness_vkey_computed="$(cosigner_vkey "$keys/witness_private.pem" "$witness_name")"
bank_vkey_computed="$(cosigner_vkey "$keys/bank_witness_private.pem" "$bank_name")"
start_helper witness '^malpro witness: running' witness --key "$keys/witness_private.pem" \
  --name "$witness_name" --log "$keys/checkpoint.vkey" --state-dir "$work/witness-state" \
  --listen-port 0
witness_pid=$started_pid
witness_vkey="$(sed -n '1s/^malpro witness: //p' "$work/witness.log")"
[ "$witness_vkey" = "$witness_vkey_computed" ] \
  || fail "the witness says its key is '$witness_vkey', not $witness_vkey_computed"
witness_url="$(sed -n 's|^  add-checkpoint: \(http://127.0.0.1:[0-9]*\)/add-checkpoint .*|\1|p' "$work/witness.log")"
[ -n "$witness_url" ] || fail "the witness did not say its URL: $(cat "$work/witness.log")"
[ "$(curl -fsS "$witness_url/")" = "witness $witness_vkey
log $log_origin" ] || fail "GET / of the witness: $(curl -sS "$witness_url/")"

# The bank simulator's port is fixed for the log's config: it is restarted on it below.
bank_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
bank_url="http://127.0.0.1:$bank_port/witness"

# The shipped config with Kafka off, a checkpoint each second, keys by absolute path, its
# geography beside it, and both witnesses required.
config="$work/witness.toml"
sed -e "s|^private_key_file = \"trial-keys/|private_key_file = \"$keys/|" -e '/^witnesses_required = /d' \
  -e 's|^interval_seconds = 5$|interval_seconds = 1\nwitnesses_required = 2|' \
  -e 's|^enabled = true$|enabled = false|' "$source_dir/config/malpro.toml" > "$config"
cat >> "$config" <<EOF

[[transparency.witnesses]]
url = "$witness_url"
key = "$witness_vkey"

[[transparency.witnesses]]
url = "$bank_url"
key = "$bank_vkey_computed"
EOF
cp "$source_dir/config/kota-malang.toml" "$work/"
grep -q "^private_key_file = \"$keys/checkpoint_private.pem\"" "$config" \
  && [ "$(grep -c '^witnesses_required = ' "$config")" = 1 ] \
  && grep -q '^witnesses_required = 2$' "$config" && grep -q '^enabled = false$' "$config" \
  || fail "the config was not made: $(cat "$config")"

start_bank bank "$bank_port"
bank_pid=$started_pid
grep -qx "  witness:    $bank_vkey_computed at $bank_url/add-checkpoint" "$work/bank.log" \
  || fail "the bank simulator's witness: $(cat "$work/bank.log")"
[ "$(curl -fsS "$bank_url")" = "witness $bank_vkey_computed" ] \
  || fail "GET /witness of the bank simulator: $(curl -sS "$bank_url")"

start_malpro "$work/data" demo demo --asn 20 --umkm 3
for _ in $(seq 150); do grep -q '^malpro: running;' "$work/demo.log" && break; sleep 0.1; done
grep -q '^malpro: running;' "$work/demo.log" || fail "the demo is not running: $(cat "$work/demo.log")"
api="http://127.0.0.1:$(served_port demo)"
for pair in "$witness_vkey $witness_url" "$bank_vkey_computed $bank_url"; do
  grep -qx "malpro: witness ${pair% *} at ${pair#* } is asked to cosign each new checkpoint" \
    "$work/demo.log" || fail "the log does not ask ${pair% *}: $(cat "$work/demo.log")"
done
wait_checkpoint "$work/checkpoint.txt" 2
size="$(sed -n 2p "$work/checkpoint.txt")"
[ "$(sed -n 1p "$work/checkpoint.txt")" = "$log_origin" ] \
  || fail "the checkpoint is not the log's: $(cat "$work/checkpoint.txt")"
[ "$(metric malpro_tlog_witnesses)" = 2 ] && [ "$(metric malpro_tlog_checkpoint_cosignatures)" = 2 ] \
  || fail "the metrics: $(curl -sS "$api/metrics" | grep '^malpro_tlog_')"

# 2. An order's proof carries both cosignatures: both witness keys, or the config's, take it;
# another witness's key, or a key under a trusted witness's name that is not its own, leaves 1
# of the 2 required.
orders="$(curl -fsS "${operator[@]}" "$api/v1/orders?limit=1")" || fail "GET /v1/orders failed"
order="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["orders"][0]["order_id"])' <<<"$orders")" \
  || fail "no order in: $orders"
for _ in $(seq 150); do
  status="$(curl -s -o "$work/order.tlog-proof" -w '%{http_code}' "${operator[@]}" \
    "$api/v1/orders/$order/proof")"
  [ "$status" = 200 ] && [ "$(cosignature_lines "$work/order.tlog-proof")" -eq 2 ] && break
  sleep 0.1
done
[ "$status" = 200 ] && [ "$(cosignature_lines "$work/order.tlog-proof")" -eq 2 ] \
  || fail "GET /v1/orders/$order/proof answered $status: $(cat "$work/order.tlog-proof")"
both="OK: the checkpoint is cosigned by 2 of the 2 witnesses trusted ($witness_name, $bank_name); 2 required"
run audit check-proof "$work/order.tlog-proof" --key "$log_vkey" --witness "$witness_vkey" \
  --witness "$bank_vkey_computed"
[ "$code" -eq 0 ] && grep -qxF "$both" "$work/run.out" && tail -1 "$work/run.out" | grep -q "^OK: the log $log_origin " \
  || fail "check-proof with both witnesses ($code): $(cat "$work/run.out" "$work/run.err")"
run -c "$config" audit check-proof "$work/order.tlog-proof" --key "$log_vkey"
[ "$code" -eq 0 ] && grep -qxF "$both" "$work/run.out" \
  || fail "check-proof with the config's witnesses ($code): $(cat "$work/run.out" "$work/run.err")"
openssl genpkey -algorithm ed25519 -out "$work/other.pem" 2> /dev/null || fail "openssl genpkey failed"
other_vkey="$(cosigner_vkey "$work/other.pem" example.org/witness-other)"
impostor_vkey="$(cosigner_vkey "$work/other.pem" "$bank_name")"
run audit check-proof "$work/order.tlog-proof" --key "$log_vkey" --witness "$witness_vkey" \
  --witness "$other_vkey" --witnesses-required 2
[ "$code" -eq 1 ] && [ "$(cat "$work/run.out")" = "FAILED: the checkpoint is cosigned by 1 of the 2 \
witnesses trusted ($witness_name); 2 required" ] \
  || fail "check-proof with another witness's key ($code): $(cat "$work/run.out" "$work/run.err")"
run audit check-proof "$work/order.tlog-proof" --key "$log_vkey" --witness "$witness_vkey" \
  --witness "$impostor_vkey"
[ "$code" -eq 1 ] && grep -q "^FAILED: the checkpoint is cosigned by 1 of the 2 witnesses trusted \
($witness_name); 2 required; " "$work/run.out" \
  || fail "check-proof with an impostor's key ($code): $(cat "$work/run.out" "$work/run.err")"
run audit check-proof "$work/order.tlog-proof" --key "$log_vkey" --witness "$witness_vkey" \
  --witness "$other_vkey" --witnesses-required 1
[ "$code" -eq 0 ] || fail "check-proof requiring 1 ($code): $(cat "$work/run.out" "$work/run.err")"
# The independent verifier (docs/transparency.md alone) says the same.
script="$source_dir/scripts/verify_tlog_proof.py"
set +e
python3 "$script" "$work/order.tlog-proof" "$log_vkey" --witness "$witness_vkey" \
  --witness "$bank_vkey_computed" > "$work/script.out" 2>&1
script_both=$?
python3 "$script" "$work/order.tlog-proof" "$log_vkey" --witness "$witness_vkey" \
  --witness "$other_vkey" > "$work/script-other.out" 2>&1
script_other=$?
set -e
[ "$script_both" -eq 0 ] && grep -qxF "$both" "$work/script.out" \
  || fail "the script with both witnesses ($script_both): $(cat "$work/script.out")"
[ "$script_other" -eq 1 ] && grep -q "^FAILED: the checkpoint is cosigned by 1 of the 2 " \
  "$work/script-other.out" || fail "the script with another key ($script_other): $(cat "$work/script-other.out")"

# 3. The protocol itself. The latest checkpoint again from 0: 409, the size cosigned; an
# unknown origin: 404; the log's signature altered: 403; garbage: 400; the same size again with
# a proof hash (which must be empty between equal sizes): 422; a fork (the same size, another
# root, signed by the log): 409; the same checkpoint with no proof: cosigned again.
wait_checkpoint "$work/checkpoint.txt" 2
size="$(sed -n 2p "$work/checkpoint.txt")"
{ printf 'old 0\n\n'; cat "$work/checkpoint.txt"; } > "$work/stale.body"
for url in "$witness_url/add-checkpoint" "$bank_url/add-checkpoint"; do
  add_checkpoint "$url" "$work/stale.body"
  [ "$status" = 409 ] && [ "$(cat "$work/answer.body")" = "$size" ] \
    && grep -qi '^content-type: text/x.tlog.size' "$work/answer.headers" \
    || fail "$url on old 0 answered $status: $(cat "$work/answer.headers" "$work/answer.body")"
done
python3 - "$work" "$size" <<'PY' || fail "could not make the altered requests"
import base64, sys
work, size = sys.argv[1], sys.argv[2]
note = open(f"{work}/checkpoint.txt").read()
lines = note.split("\n")
other = "\n".join(["example.com/other"] + lines[1:])
open(f"{work}/unknown.body", "w").write("old 0\n\n" + other)
signed = next(i for i, line in enumerate(lines) if line.startswith("\u2014 malangkota.go.id/malpro "))
name, signature = lines[signed][2:].split(" ")
signature = bytearray(base64.b64decode(signature))
signature[-1] ^= 1  # the key ID (its first 4 bytes) still names the key
lines[signed] = f"\u2014 {name} {base64.b64encode(signature).decode()}"
open(f"{work}/forged.body", "w").write(f"old {size}\n\n" + "\n".join(lines))
open(f"{work}/proof.body", "w").write(f"old {size}\n{base64.b64encode(bytes(32)).decode()}\n\n{note}")
open(f"{work}/again.body", "w").write(f"old {size}\n\n{note}")
PY
printf 'not a request\n' > "$work/garbage.body"
# A fork: a checkpoint of the same size with another root, signed with the log's own key.
printf '%s\n%s\n%s\n' "$log_origin" "$size" "$(head -c 32 /dev/urandom | base64)" > "$work/fork.text"
openssl pkeyutl -sign -inkey "$keys/checkpoint_private.pem" -rawin -in "$work/fork.text" \
  -out "$work/fork.sig" || fail "could not sign the fork"
sed -n "s|^$dash $log_origin ||p" "$work/checkpoint.txt" | base64 -d | head -c 4 > "$work/log.keyid"
{
  printf 'old %s\n\n' "$size"
  cat "$work/fork.text"
  printf '\n%s %s %s\n' "$dash" "$log_origin" "$(cat "$work/log.keyid" "$work/fork.sig" | base64 -w 0)"
} > "$work/fork.body"
for expected in "unknown 404 does not know the log example.com/other" \
  "forged 403 no signature on the checkpoint verifies" "garbage 400 the first line must be" \
  "proof 422 the consistency proof from $size to $size does not verify" \
  "fork 409 has another root than the one cosigned"; do
  read -r name want phrase <<<"$expected"
  add_checkpoint "$witness_url/add-checkpoint" "$work/$name.body"
  [ "$status" = "$want" ] && grep -qF "$phrase" "$work/answer.body" \
    || fail "the $name request answered $status, not $want ($phrase): $(cat "$work/answer.body")"
done
add_checkpoint "$witness_url/add-checkpoint" "$work/again.body"
[ "$status" = 200 ] && grep -q "^$dash $witness_name [A-Za-z0-9+/=]*$" "$work/answer.body" \
  && [ "$(wc -l < "$work/answer.body")" -eq 1 ] \
  || fail "the same checkpoint again answered $status: $(cat "$work/answer.body")"

# 4. The bank's witness down: an order grows the log, whose next checkpoint has 1 cosignature;
# the log says so once, and the metric shows it.
stop_helper "$bank_pid"
order_body='{"buyer_nip":"198507122010011003","umkm_id":"warung-bu-sri","lines":[{"product_id":"beras-5kg","quantity":1}],"payment_method":"CASHLESS"}'
status="$(http_status -X POST "$api/v1/orders" -H 'Authorization: Bearer dev-asn' -d "$order_body")"
[ "$status" = 201 ] || fail "placing an order answered $status"
wait_checkpoint "$work/one.txt" 1 "$size"
grep -q "^$dash $witness_name " "$work/one.txt" || fail "the witness did not cosign: $(cat "$work/one.txt")"
one_size="$(sed -n 2p "$work/one.txt")"
wait_line "^malpro: witness $bank_name at $bank_url did not cosign checkpoint [0-9]*: " \
  "$work/demo.err" || fail "the log did not say the bank's witness failed: $(cat "$work/demo.err")"
[ "$(metric malpro_tlog_checkpoint_cosignatures)" = 1 ] \
  || fail "cosignatures with the bank's witness down: $(metric malpro_tlog_checkpoint_cosignatures)"
sleep 1.5  # the log asks again each second: it says so only once
[ "$(grep -c "did not cosign" "$work/demo.err")" -eq 1 ] \
  || fail "the log said more than once that the bank's witness failed: $(cat "$work/demo.err")"

# Restarted on its state (away from the log, on another port), the bank's witness still knows
# the size it last cosigned.
start_bank bank-aside 0
aside_pid=$started_pid
aside_url="$(sed -n 's|^  witness: .* at \(http://127.0.0.1:[0-9]*/witness\)/add-checkpoint$|\1|p' "$work/bank-aside.log")"
[ -n "$aside_url" ] || fail "the bank simulator did not say its witness's URL: $(cat "$work/bank-aside.log")"
add_checkpoint "$aside_url/add-checkpoint" "$work/stale.body"
[ "$status" = 409 ] && [ "$(cat "$work/answer.body")" = "$size" ] \
  || fail "the restarted bank's witness answered $status: $(cat "$work/answer.body")"
stop_helper "$aside_pid"

# Back where the log expects it: it cosigns again, the log says so, and the checkpoint carries
# 2 cosignatures again.
start_bank bank-again "$bank_port"
wait_line "^malpro: witness $bank_name cosigns again (checkpoint $one_size)$" "$work/demo.err" \
  || fail "the log did not say the bank's witness cosigns again: $(cat "$work/demo.err")"
wait_checkpoint "$work/two.txt" 2 "$size"
[ "$(sed -n 2p "$work/two.txt")" = "$one_size" ] || fail "the log grew again: $(cat "$work/two.txt")"
[ "$(metric malpro_tlog_checkpoint_cosignatures)" = 2 ] \
  || fail "cosignatures with both witnesses: $(metric malpro_tlog_checkpoint_cosignatures)"
add_checkpoint "$bank_url/add-checkpoint" "$work/stale.body"
[ "$status" = 409 ] && [ "$(cat "$work/answer.body")" = "$one_size" ] \
  || fail "the bank's witness after cosigning again answered $status: $(cat "$work/answer.body")"

# 5. Stopped, the log extends the checkpoint with 2 cosignatures (the config requires them) and
# not the one with 1; the witness restarted on its state knows the latest size it cosigned.
stop_server
run -c "$config" -d "$work/data" audit verify --since-checkpoint "$work/two.txt" --key "$log_vkey"
[ "$code" -eq 0 ] && grep -qxF "$both" "$work/run.out" \
  || fail "verify --since-checkpoint of two.txt ($code): $(cat "$work/run.out" "$work/run.err")"
run -c "$config" -d "$work/data" audit verify --since-checkpoint "$work/one.txt" --key "$log_vkey"
[ "$code" -eq 1 ] && grep -qx "FAILED: the checkpoint is cosigned by 1 of the 2 witnesses trusted \
($witness_name); 2 required" "$work/run.out" \
  || fail "verify --since-checkpoint of one.txt ($code): $(cat "$work/run.out" "$work/run.err")"
stop_helper "$witness_pid"
start_helper witness-again '^malpro witness: running' witness --key "$keys/witness_private.pem" \
  --name "$witness_name" --log "$keys/checkpoint.vkey" --state-dir "$work/witness-state" \
  --listen-port 0
witness_url="$(sed -n 's|^  add-checkpoint: \(http://127.0.0.1:[0-9]*\)/add-checkpoint .*|\1|p' "$work/witness-again.log")"
add_checkpoint "$witness_url/add-checkpoint" "$work/stale.body"
[ "$status" = 409 ] && [ "$(cat "$work/answer.body")" = "$one_size" ] \
  || fail "the restarted witness answered $status: $(cat "$work/answer.body")"
echo "witnesses: all checks passed"
