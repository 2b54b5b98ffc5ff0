#!/usr/bin/env bash
# The PostgreSQL peer: the same event appends as the log's benchmarks, into an event table
# with a unique (stream_id, stream_version) key, durable (fsync and synchronous_commit on).
# Starts a throwaway server on 127.0.0.1 in a temporary folder, runs pgbench for a bounded
# time per workload, prints one key=value line per workload, and removes everything.
#   bash bench/pg_peer.sh            (PG_PEER_SECONDS, default 8; PG_PEER_PORT, default 55432)
set -euo pipefail

seconds="${PG_PEER_SECONDS:-8}"
port="${PG_PEER_PORT:-55432}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "pg_peer: PostgreSQL server binaries not found (apt-get install postgresql)" >&2
  exit 2
fi
run_as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
while (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; do port=$((port + 1)); done

work="$(mktemp -d)"
chmod 755 "$work"
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
cleanup() {
  run_as_postgres "$bin/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

run_as_postgres "$bin/initdb" -D "$work/data" -A trust -U postgres >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work'
fsync = on
synchronous_commit = on
shared_buffers = 256MB
max_connections = 200
CONF
run_as_postgres "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
psql_cmd=(run_as_postgres psql -h 127.0.0.1 -p "$port" -U postgres -qAt)
"${psql_cmd[@]}" -c "CREATE TABLE events (
  sequence bigserial PRIMARY KEY, stream_id text NOT NULL, stream_version bigint NOT NULL,
  type text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(), actor text NOT NULL,
  payload jsonb NOT NULL, hash bytea, UNIQUE (stream_id, stream_version))"

# The same ~200-byte order payload the log's benchmarks write.
payload='{"buyer_nip":"198507122010011003","merchant":"umkm-0042","lines":[{"product":"beras-5kg","quantity":2,"unit_price":"68000.00"},{"product":"telur-1kg","quantity":1,"unit_price":"29000.00"}],"total":"165000.00","payment":"COD"}'
# Kept in a function: pgbench would read the payload's colons as variables.
"${psql_cmd[@]}" -c "CREATE FUNCTION bench_payload() RETURNS text IMMUTABLE LANGUAGE sql
  AS \$\$ SELECT '$payload'::text \$\$"
cat > "$work/single.sql" <<SQL
INSERT INTO events (stream_id, stream_version, type, actor, payload, hash)
VALUES ('order-' || :client_id || '-' || nextval('events_sequence_seq'), 1, 'order.placed',
        'bench-pg', bench_payload()::jsonb, sha256(convert_to(bench_payload(), 'UTF8')));
SQL
for batch in 10 100 1000; do
  cat > "$work/batch$batch.sql" <<SQL
INSERT INTO events (stream_id, stream_version, type, actor, payload, hash)
SELECT 'order-b$batch-' || nextval('events_sequence_seq'), 1, 'order.placed', 'bench-pg',
       bench_payload()::jsonb, sha256(convert_to(bench_payload(), 'UTF8'))
FROM generate_series(1, $batch);
SQL
done
chmod 644 "$work"/*.sql

echo "pg_peer settings: fsync=on synchronous_commit=on shared_buffers=256MB; $("$bin/postgres" --version)"
echo "pg_peer note: hash is sha256 of the payload; PostgreSQL keeps no chain (previous hash)"
pgbench_run() {  # name, clients, script, events per transaction
  local output tps latency
  output="$(run_as_postgres pgbench -h 127.0.0.1 -p "$port" -U postgres -n -M prepared \
            -c "$2" -j 2 -T "$seconds" -f "$3" postgres 2>&1)"
  tps="$(echo "$output" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)"
  latency="$(echo "$output" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')"
  awk -v name="$1" -v tps="$tps" -v per="$4" -v lat="$latency" \
    'BEGIN { printf "pg_peer %s events_per_second=%.0f transactions_per_second=%.0f latency_ms_avg=%s\n", name, tps * per, tps, lat }'
}
pgbench_run single_event_64_clients 64 "$work/single.sql" 1
for batch in 10 100 1000; do
  pgbench_run "batch${batch}_1_client" 1 "$work/batch$batch.sql" "$batch"
done
