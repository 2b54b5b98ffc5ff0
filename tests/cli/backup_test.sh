#!/usr/bin/env bash
# `malpro backup` copies the log of a running server while it takes writes, and the copy
# verifies to the head its BACKUP file records; `malpro restore` puts it into a new data
# directory, which `audit verify` ends on that head and `malpro serve` starts on. Refused: an
# -o that holds files, a data directory that holds files, a BACKUP whose hash was altered.
# Usage: backup_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

seed_demo data 5 20 3
head_before="$("$malpro" -d "$work/data" audit verify --to 0 2>/dev/null |
  sed -n 's/.*head sequence \([0-9]*\),.*/\1/p' | head -1)"
[ -n "$head_before" ] || fail "the seeded demo does not verify"
start_malpro "$work/data" serve serve
api="http://127.0.0.1:$(served_port serve)"

# Writes while the backup runs: new UMKM, one command each, bounded.
writer() {
  for i in $(seq 1 40); do
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer dev-admin" -X POST "$api/v1/umkm" \
      -d "{\"umkm_id\":\"warung-backup-$i\",\"name\":\"Warung Backup $i\",\"category\":\"sembako\",\"kecamatan\":\"Klojen\",\"kelurahan\":\"Kauman\",\"sponsor\":\"Diskopindag\",\"settlement_account\":\"0012345678\",\"qris_criteria\":\"UMI\"}" ||
      true
  done > "$work/writes.txt"
}
writer &
writer_pid=$!
sleep 0.2
"$malpro" -c "$config" -d "$work/data" backup -o "$work/backup" > "$work/backup.out" 2> "$work/backup.err" ||
  fail "backup of the live directory failed: $(cat "$work/backup.err" "$work/backup.out")"
wait "$writer_pid"
[ "$(grep -c '^201$' "$work/writes.txt")" = 40 ] || fail "writes answered: $(sort "$work/writes.txt" | uniq -c)"
grep -q '^malpro: backed up .* events verified, head sequence [0-9]*, head hash [0-9a-f]\{64\}' \
  "$work/backup.out" || fail "backup said: $(cat "$work/backup.out")"
[ "$(wc -l < "$work/backup.out")" = 1 ] || fail "backup printed more than one line: $(cat "$work/backup.out")"
recorded_hash="$(sed -n 's/^head_hash=//p' "$work/backup/BACKUP")"
recorded_sequence="$(sed -n 's/^head_sequence=//p' "$work/backup/BACKUP")"
[ "${#recorded_hash}" = 64 ] || fail "BACKUP holds no head hash: $(cat "$work/backup/BACKUP")"
[ "$recorded_sequence" -ge "$head_before" ] ||
  fail "the backup ends at $recorded_sequence, before the head $head_before it started from"
grep -q '^format_version=1$' "$work/backup/BACKUP" || fail "BACKUP: $(cat "$work/backup/BACKUP")"
grep -q '^created_at=20[0-9-]*T[0-9:]*Z$' "$work/backup/BACKUP" || fail "BACKUP: no created_at"
grep -q '^malpro_version=' "$work/backup/BACKUP" || fail "BACKUP: no malpro_version"
echo "backed up to sequence $recorded_sequence from $head_before, 40 writes beside it: $(cat "$work/backup.out")"

# -o that exists and holds files: refused, naming -o.
status=0
"$malpro" -c "$config" -d "$work/data" backup -o "$work/backup" > /dev/null 2> "$work/again.err" ||
  status=$?
[ "$status" = 2 ] || fail "backup into a full -o exited $status"
grep -q 'out_not_empty.*-o\|-o .*not empty' "$work/again.err" || fail "backup said: $(cat "$work/again.err")"
stop_server

# Restore into a new directory: it verifies to the recorded head, and serves.
"$malpro" -c "$config" -d "$work/restored" restore --from "$work/backup" > "$work/restore.out" \
  2> "$work/restore.err" || fail "restore failed: $(cat "$work/restore.err" "$work/restore.out")"
grep -q "^malpro: restored .* head hash $recorded_hash" "$work/restore.out" ||
  fail "restore said: $(cat "$work/restore.out")"
[ "$(head_hash "$work/restored")" = "$recorded_hash" ] ||
  fail "the restored log does not verify to $recorded_hash: $("$malpro" -d "$work/restored" audit verify 2>&1)"
start_malpro "$work/restored" restored serve
restored_api="http://127.0.0.1:$(served_port restored)"
served="$(curl -fsS -H 'Authorization: Bearer dev-auditor' "$restored_api/v1/chain/head")" ||
  fail "the restored directory does not answer"
grep -q "$recorded_hash" <<< "$served" || fail "the restored server's head: $served"
stop_server

# A data directory that holds files: refused, nothing written.
status=0
"$malpro" -c "$config" -d "$work/data" restore --from "$work/backup" > /dev/null \
  2> "$work/full.err" || status=$?
[ "$status" = 2 ] || fail "restore over a log exited $status"
grep -q 'data_dir_not_empty' "$work/full.err" || fail "restore said: $(cat "$work/full.err")"

# A BACKUP whose recorded hash was altered: the backup does not verify to it, nothing copied.
cp -r "$work/backup" "$work/tampered"
first="${recorded_hash:0:1}"
flipped="$([ "$first" = 0 ] && echo 1 || echo 0)"
sed -i "s/^head_hash=$first/head_hash=$flipped/" "$work/tampered/BACKUP"
status=0
"$malpro" -c "$config" -d "$work/from-tampered" restore --from "$work/tampered" \
  > "$work/tampered.out" 2>&1 || status=$?
[ "$status" = 1 ] || fail "restore of a tampered backup exited $status: $(cat "$work/tampered.out")"
grep -q '^FAILED: the backup' "$work/tampered.out" || fail "restore said: $(cat "$work/tampered.out")"
[ ! -e "$work/from-tampered/CURRENT" ] || fail "restore of a tampered backup wrote a log"
echo "OK"
