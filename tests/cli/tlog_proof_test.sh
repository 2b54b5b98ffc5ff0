#!/usr/bin/env bash
# The proofs of docs/transparency.md, section 6, end to end: `malpro demo` serves a month and
# signs checkpoints with the trial key; an order's inclusion bundle, and a consistency bundle
# from the first checkpoint to a later one (after a settlement close), fetched over HTTP, verify
# with both `malpro audit check-proof` and the independent scripts/verify_tlog_proof.py, and
# altered ones (a proof hash, the extra data, swapped checkpoints, another key) fail with both.
# Stopped, `malpro audit verify --since-checkpoint` ties the log to the first checkpoint.
# Usage: tlog_proof_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$(realpath "$1")"
source_dir="$(realpath "$2")"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$work"  # a settlement close writes its files into ./settlement

vkey_file="$source_dir/config/trial-keys/checkpoint.vkey"
vkey="$(cat "$vkey_file")"
verifier="$source_dir/scripts/verify_tlog_proof.py"
operator=(-H "Authorization: Bearer dev-operator")

# Runs the check of TOOL (malpro or script) on FILE with KEY; its stdout in $work/TOOL.out, its
# stderr in $work/TOOL.err, its exit status in $code.
check() {  # tool file key
  set +e
  if [ "$1" = malpro ]; then
    "$malpro" audit check-proof "$2" --key "$3" > "$work/$1.out" 2> "$work/$1.err"
  else
    python3 "$verifier" "$2" "$3" > "$work/$1.out" 2> "$work/$1.err"
  fi
  code=$?
  set -e
}

# Both tools must refuse FILE with KEY: exit 1 and one line "FAILED: ...", holding WHY.
expect_failed() {  # file key why
  for tool in malpro script; do
    check "$tool" "$1" "$2"
    [ "$code" -eq 1 ] || fail "$tool exited $code, not 1, on $1: $(cat "$work/$tool.out" "$work/$tool.err")"
    [ "$(wc -l < "$work/$tool.out")" -eq 1 ] && grep -q "^FAILED: .*$3" "$work/$tool.out" \
      || fail "$tool on $1 did not say 'FAILED: ...$3': $(cat "$work/$tool.out")"
  done
}

# The line N of a file (a checkpoint's size is its line 2, its base64 root line 3), and the line
# N after a bundle's first empty line (where its signed checkpoints start, one signature each).
line() { sed -n "$1p" "$2"; }
after_empty_line() { sed '1,/^$/d' "$2" | sed -n "$1p"; }
hex_of() { base64 -d <<<"$1" | od -An -tx1 -v | tr -d ' \n'; }  # hex_of BASE64

start_malpro "$work/data" demo demo --asn 200 --umkm 15
for _ in $(seq 50); do grep -q '^malpro: running;' "$work/demo.log" && break; sleep 0.1; done
grep -q '^malpro: running;' "$work/demo.log" || fail "the demo is not running: $(cat "$work/demo.log")"
api="http://127.0.0.1:$(served_port demo)"
month="$(sed -n 's/^malpro demo: seeded \([0-9]\{4\}-[0-9]\{2\}\) in .*/\1/p' "$work/demo.log")"
[ -n "$month" ] || fail "the demo did not say its month: $(cat "$work/demo.log")"

# The latest checkpoint (public); the first is signed on start, or within 5 s once the tree has
# caught up with the seeded log.
for _ in $(seq 150); do
  status="$(curl -s -o "$work/checkpoint.txt" -w '%{http_code}' "$api/tlog/checkpoint")"
  [ "$status" = 200 ] && break
  sleep 0.1
done
[ "$status" = 200 ] || fail "GET /tlog/checkpoint answered $status: $(cat "$work/checkpoint.txt")"
size="$(line 2 "$work/checkpoint.txt")"
first_root="$(hex_of "$(line 3 "$work/checkpoint.txt")")"
[ "$(line 1 "$work/checkpoint.txt")" = malangkota.go.id/malpro ] && [ "$size" -gt 0 ] \
  || fail "the checkpoint is not one of the demo's log: $(cat "$work/checkpoint.txt")"

# An order's bundle: every event of its order and payment streams (409 until a checkpoint
# holds them).
orders="$(curl -fsS "${operator[@]}" "$api/v1/orders?limit=1")" || fail "GET /v1/orders failed"
order="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["orders"][0]["order_id"])' <<<"$orders")" \
  || fail "no order in: $orders"
for _ in $(seq 150); do
  status="$(curl -s -o "$work/order.tlog-proof" -w '%{http_code}' "${operator[@]}" "$api/v1/orders/$order/proof")"
  [ "$status" = 409 ] && grep -q '"code":"proof_pending"' "$work/order.tlog-proof" || break
  sleep 0.1
done
[ "$status" = 200 ] || fail "GET /v1/orders/$order/proof answered $status: $(cat "$work/order.tlog-proof")"
[ "$(line 1 "$work/order.tlog-proof")" = c2sp.org/tlog-proof@v1 ] \
  || fail "the order's bundle: $(head -3 "$work/order.tlog-proof")"
proof_size="$(after_empty_line 2 "$work/order.tlog-proof")"
order_root="$(hex_of "$(after_empty_line 3 "$work/order.tlog-proof")")"
# What each tool must print for it: one line per event of the order's streams, as the log has
# them, then the checkpoint's.
for stream in "order-$order" "payment-$order"; do
  curl -fsS -H "Authorization: Bearer dev-auditor" "$api/v1/streams/$stream"
  echo
done | python3 -c '
import json, sys
events = [e for line in sys.stdin if line.strip() for e in json.loads(line)["events"]]
for e in sorted(events, key=lambda e: e["sequence"]):
    print("OK: event %d (hash %s) is in the log" % (e["sequence"], e["hash"]))' > "$work/order.expected" \
  || fail "the order's streams could not be read"
[ -s "$work/order.expected" ] || fail "order $order has no events"

# Grow the log: close a settlement day of the demo's month, then wait for a larger checkpoint
# (the close's own, signed as soon as the tree holds its events) and ask for the consistency
# bundle from the first checkpoint to the latest.
status="$(http_status "${operator[@]}" -X POST "$api/v1/settlement/$month-20/close")"
[ "$status" = 201 ] || fail "closing $month-20 answered $status"
for _ in $(seq 100); do
  later="$(curl -fsS "$api/tlog/checkpoints?after_size=$size")" || fail "GET /tlog/checkpoints failed"
  grep -q '"size":' <<<"$later" && break
  sleep 0.1
done
grep -q '"size":' <<<"$later" || fail "no checkpoint after size $size: $later"
grep -q "\"key\":\"$vkey\"" <<<"$later" || fail "the server signs with another key: $later"
status="$(curl -s -o "$work/consistency.tlog-proof" -w '%{http_code}' "$api/tlog/proof/consistency?old_size=$size")"
[ "$status" = 200 ] || fail "GET /tlog/proof/consistency answered $status: $(cat "$work/consistency.tlog-proof")"
new_size="$(after_empty_line 7 "$work/consistency.tlog-proof")"  # the newer checkpoint's
new_root="$(hex_of "$(after_empty_line 8 "$work/consistency.tlog-proof")")"
[ "$(after_empty_line 2 "$work/consistency.tlog-proof")" = "$size" ] && [ "$new_size" -gt "$size" ] \
  || fail "the consistency bundle is not from $size to a larger size: $(cat "$work/consistency.tlog-proof")"

# Both tools verify both bundles and say the same.
for tool in malpro script; do
  check "$tool" "$work/order.tlog-proof" "$vkey_file"
  [ "$code" -eq 0 ] || fail "$tool refused the order's bundle ($code): $(cat "$work/$tool.out" "$work/$tool.err")"
  cmp -s <(head -n -1 "$work/$tool.out") "$work/order.expected" \
    || fail "$tool did not name the order's events: $(cat "$work/$tool.out" "$work/order.expected")"
  [ "$(tail -1 "$work/$tool.out")" = "OK: the log malangkota.go.id/malpro of $proof_size events \
(root $order_root) holds them, as its checkpoint signed by $vkey says" ] \
    || fail "$tool on the order's bundle: $(cat "$work/$tool.out")"
  check "$tool" "$work/consistency.tlog-proof" "$vkey"
  [ "$code" -eq 0 ] || fail "$tool refused the consistency bundle ($code): $(cat "$work/$tool.out" "$work/$tool.err")"
  [ "$(cat "$work/$tool.out")" = "OK: the log malangkota.go.id/malpro of $new_size events (root \
$new_root) extends its log of $size events (root $first_root); both checkpoints signed by $vkey" ] \
    || fail "$tool on the consistency bundle: $(cat "$work/$tool.out")"
done

# Altered bundles fail with both tools: one proof hash (a bit of it flipped), one proof hash too
# many, the extra data naming another event's hash for the first event, a bit of the
# checkpoint's signature flipped; each of the consistency bundle's proof hashes altered in turn
# (some lead to the older root, some only to the newer), and its two checkpoints swapped.
python3 - "$work" <<'PY' || fail "could not make the altered bundles"
import base64, hashlib, sys
work = sys.argv[1]
lines = open(f"{work}/order.tlog-proof").read().split("\n")
proof_line = next(i for i, line in enumerate(lines) if i > 1 and not line.startswith("index "))
assert lines[proof_line], "the order's bundle has no proof hash"
flipped = bytearray(base64.b64decode(lines[proof_line]))
flipped[0] ^= 1
altered = lines[:proof_line] + [base64.b64encode(flipped).decode()] + lines[proof_line + 1:]
open(f"{work}/altered-hash.tlog-proof", "w").write("\n".join(altered))
empty_line = lines.index("")
longer = lines[:empty_line] + [lines[proof_line]] + lines[empty_line:]
open(f"{work}/longer.tlog-proof", "w").write("\n".join(longer))
extra = base64.b64decode(lines[1][len("extra "):])
other = hashlib.sha256(extra[:32]).digest()  # a hash, not the event's
lines[1] = "extra " + base64.b64encode(other + extra[32:]).decode()
open(f"{work}/altered-extra.tlog-proof", "w").write("\n".join(lines))
lines = open(f"{work}/order.tlog-proof").read().split("\n")
signed = next(i for i, line in enumerate(lines) if line.startswith("\u2014 "))
name, signature = lines[signed][2:].split(" ")
signature = bytearray(base64.b64decode(signature))
signature[-1] ^= 1  # the key ID (its first 4 bytes) still names the key
lines[signed] = f"\u2014 {name} {base64.b64encode(signature).decode()}"
open(f"{work}/altered-signature.tlog-proof", "w").write("\n".join(lines))
head, _, notes = open(f"{work}/consistency.tlog-proof").read().partition("\n\n")
head = head.split("\n")
assert len(head) > 1, "the consistency bundle has no proof hash"
for number in range(1, len(head)):
    flipped = bytearray(base64.b64decode(head[number]))
    flipped[0] ^= 1
    altered = head[:number] + [base64.b64encode(flipped).decode()] + head[number + 1:]
    with open(f"{work}/altered-consistency-{number}.tlog-proof", "w") as bundle:
        bundle.write("\n".join(altered) + "\n\n" + notes)
head = "\n".join(head)
signature = notes.index("\n\u2014 ")
second = notes.index("\n", signature + 1) + 1
open(f"{work}/swapped.tlog-proof", "w").write(head + "\n\n" + notes[second:] + notes[:second])
PY
for altered in altered-hash longer altered-extra altered-signature; do
  ! cmp -s "$work/$altered.tlog-proof" "$work/order.tlog-proof" || fail "$altered is not altered"
done
expect_failed "$work/altered-hash.tlog-proof" "$vkey" "the proof does not verify"
expect_failed "$work/longer.tlog-proof" "$vkey" "the proof does not verify"
expect_failed "$work/altered-extra.tlog-proof" "$vkey" "the proof does not verify"
expect_failed "$work/altered-signature.tlog-proof" "$vkey" \
  "the signature of malangkota.go.id/malpro.* does not verify"
! cmp -s "$work/swapped.tlog-proof" "$work/consistency.tlog-proof" || fail "nothing was swapped"
consistency_hashes="$(($(sed -n '/^$/{=;q}' "$work/consistency.tlog-proof") - 2))"
for number in $(seq "$consistency_hashes"); do
  ! cmp -s "$work/altered-consistency-$number.tlog-proof" "$work/consistency.tlog-proof" \
    || fail "proof hash $number of the consistency bundle was not altered"
  expect_failed "$work/altered-consistency-$number.tlog-proof" "$vkey" "another.* root"
done
expect_failed "$work/swapped.tlog-proof" "$vkey_file" "size"

# Another key of the same name (its own ID) finds no signature of its own in a good bundle.
openssl genpkey -algorithm ed25519 -out "$work/other.pem" 2> /dev/null || fail "openssl genpkey failed"
other_key="$(openssl pkey -in "$work/other.pem" -pubout -outform DER | python3 -c '
import base64, hashlib, sys
key, name = sys.stdin.buffer.read()[-32:], b"malangkota.go.id/malpro"
key_id = hashlib.sha256(name + b"\n\x01" + key).digest()[:4].hex()
encoded = base64.b64encode(b"\x01" + key).decode()
print(f"{name.decode()}+{key_id}+{encoded}")')"
[ "${other_key%%+*}" = malangkota.go.id/malpro ] && [ "$other_key" != "$vkey" ] \
  || fail "the other key: $other_key"
expect_failed "$work/order.tlog-proof" "$other_key" "no signature by malangkota.go.id/malpro"
expect_failed "$work/consistency.tlog-proof" "$other_key" "no signature by malangkota.go.id/malpro"
# The trial key with one character of its key part changed no longer matches its key ID: both
# tools refuse the key itself (exit 2, docs/transparency.md section 6.4: "2 other errors").
bad_key="${vkey%?}$([ "${vkey: -1}" = 2 ] && echo 3 || echo 2)"
[ "$bad_key" != "$vkey" ] || fail "the key was not changed"
for tool in malpro script; do
  check "$tool" "$work/order.tlog-proof" "$bad_key"
  [ "$code" -eq 2 ] && [ ! -s "$work/$tool.out" ] \
    || fail "$tool took a key whose ID does not match ($code): $(cat "$work/$tool.out" "$work/$tool.err")"
done
grep -q 'note_key_invalid (field --key): .*its key ID does not match its name and key' "$work/malpro.err" \
  || fail "malpro on a mismatched key: $(cat "$work/malpro.err")"
grep -q 'its key ID does not match its name and key' "$work/script.err" \
  || fail "the script on a mismatched key: $(cat "$work/script.err")"

# The events topic of the demo's embedded broker, checked without the data directory and tied
# to the log by the signed checkpoints of malpro.checkpoints (docs/transparency.md, section 7);
# with another key, the checkpoints do not verify.
broker="$(sed -n 's/^malpro: kafka: embedded broker at \([0-9.:]*\) .*/\1/p' "$work/demo.log")"
[ -n "$broker" ] || fail "the demo did not print its broker: $(cat "$work/demo.log")"
set +e
"$malpro" -c "$config" audit verify --kafka "$broker" --key "$vkey_file" \
  > "$work/kafka.out" 2> "$work/kafka.err"
code=$?
set -e
[ "$code" -eq 0 ] || fail "audit verify --kafka exited $code: $(cat "$work/kafka.out" "$work/kafka.err")"
grep -q "^OK: events [0-9]* to [0-9]* give the root that the checkpoint of [0-9]* on malpro.checkpoints signs" \
  "$work/kafka.out" || fail "audit verify --kafka tied nothing: $(cat "$work/kafka.out")"
grep -q "^checked: events [0-9]* to [0-9]* are the log's" "$work/kafka.out" \
  || fail "audit verify --kafka did not say what it checked: $(cat "$work/kafka.out")"
set +e
"$malpro" -c "$config" audit verify --kafka "$broker" --key "$other_key" \
  > "$work/kafka.out" 2> "$work/kafka.err"
code=$?
set -e
[ "$code" -eq 1 ] && grep -q "^FAILED: checkpoint record at offset 0: .*no signature by" "$work/kafka.out" \
  || fail "audit verify --kafka with another key ($code): $(cat "$work/kafka.out" "$work/kafka.err")"

# Stopped, the log on disk extends the first checkpoint: its signature, its last leaf, and the
# chain from there to the head.
stop_server
set +e
"$malpro" -c "$config" -d "$work/data" audit verify --since-checkpoint "$work/checkpoint.txt" \
  --key "$vkey_file" > "$work/since.out" 2> "$work/since.err"
code=$?
set -e
[ "$code" -eq 0 ] || fail "audit verify --since-checkpoint exited $code: $(cat "$work/since.out" "$work/since.err")"
[ "$(wc -l < "$work/since.out")" -eq 3 ] || fail "audit verify --since-checkpoint: $(cat "$work/since.out")"
[ "$(line 1 "$work/since.out")" = "OK: the checkpoint of $size events of malangkota.go.id/malpro \
(root $first_root) is signed by $vkey" ] || fail "since-checkpoint, line 1: $(cat "$work/since.out")"
grep -qx "OK: event $size (hash [0-9a-f]\{64\}) is the checkpoint's last leaf" <<<"$(line 2 "$work/since.out")" \
  || fail "since-checkpoint, line 2: $(cat "$work/since.out")"
verified="$(line 3 "$work/since.out" | sed -n "s/^OK: \([0-9]*\) events verified from sequence $size to the head \([0-9]*\), head hash [0-9a-f]\{64\}: this log extends the one the checkpoint signs$/\1 \2/p")"
[ -n "$verified" ] && [ "${verified% *}" -eq "$((${verified#* } - size + 1))" ] && [ "${verified#* }" -ge "$new_size" ] \
  || fail "since-checkpoint, line 3: $(cat "$work/since.out")"
echo "tlog proofs: all checks passed"
