#!/usr/bin/env bash
# The metrics that docs/alerts.yml, docs/grafana-dashboard.json and the RUNBOOK's "Health and
# metrics" name are in a real /metrics answer: `malpro serve` with Kafka on (its embedded
# broker) and Bank Jatim configured (config/bank-trial.toml), after a few requests: an order, a
# bank notification, a live subscription. The route labels they name are served too, and bank
# notifications and subscriptions count under their routes, not "unmatched".
# Usage: metrics_docs_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The trial configuration with Kafka on; its geography beside it, its keys by absolute path.
config="$work/metrics.toml"
sed -e '/^\[kafka\]/,/^\[/ s/^enabled = false$/enabled = true/' \
  -e "s|\"config/trial-keys/|\"$source_dir/config/trial-keys/|" \
  "$source_dir/config/bank-trial.toml" > "$config"
cp "$source_dir/config/kota-malang.toml" "$work/"
grep -q '^enabled = true' "$config" || fail "Kafka is not on in $config"
start_serve

curl -sS -o /dev/null -X POST "$api/v1/orders" -H 'Authorization: Bearer dev-asn' -d '{}'
# Unsigned: the bank's route refuses it (400, SNAP 4005202), which is still its answer.
notified="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$api/v1.0/qr/qr-mpm-notify" -d '{}')"
[ "$notified" = 400 ] || fail "the unsigned notification was answered $notified"
# curl ends the stream after a second (exit 28); what it received is enough.
subscribed="$(curl -sN --max-time 1 "$api/v1/subscribe/events" \
  -H 'Authorization: Bearer dev-auditor' || true)"
grep -q '^: subscribed' <<<"$subscribed" || fail "no subscription: $subscribed"
metrics="$(curl -fsS "$api/metrics")"
echo "$metrics" > "$work/metrics.txt"

# Series lines only: "name{labels} value" or "name value".
served="$(grep -v '^#' <<<"$metrics" | sed -E 's/[{ ].*//' | sort -u)"
runbook="$(sed -n '/^## Health and metrics/,/^## When something is wrong/p' \
  "$source_dir/docs/RUNBOOK.md")"
named="$(cat "$source_dir/docs/alerts.yml" "$source_dir/docs/grafana-dashboard.json" - \
  <<<"$runbook" | grep -oE 'malpro_[a-z0-9_]+' | sort -u)"
[ "$(wc -l <<<"$named")" -ge 30 ] || fail "too few metric names found in the docs: $named"
missing=""
while read -r name; do
  # A histogram is named by its family in prose: its _bucket series stand for it.
  grep -qxE "$name(_bucket)?" <<<"$served" || missing="$missing $name"
done <<<"$named"
[ -z "$missing" ] || fail "named in the docs but not served:$missing (see $work/metrics.txt)"

routes="$(cat "$source_dir/docs/alerts.yml" "$source_dir/docs/grafana-dashboard.json" \
  | grep -oE 'route=\\?"[^"\\]+' | sed -E 's/route=\\?"//' | sort -u)"
[ -n "$routes" ] || fail "no route label found in the alerts and the dashboard"
while read -r route; do
  grep -qF "route=\"$route\"" <<<"$metrics" || fail "route label '$route' is not served"
done <<<"$routes"

grep -qF 'malpro_http_requests_total{route="POST /v1.0/qr/qr-mpm-notify",status="400"} 1' \
  <<<"$metrics" || fail "the bank notification is not counted under its route"
grep -qF 'malpro_http_requests_total{route="GET /v1/subscribe/events",status="200"} 1' \
  <<<"$metrics" || fail "the subscription is not counted under its route"
grep -qF 'malpro_http_request_duration_seconds_count{route="POST /v1/orders"} 1' \
  <<<"$metrics" || fail "the order is not timed under its route"
! grep -q 'route="unmatched"' <<<"$metrics" || fail "a request of a route counted as unmatched"
grep -qE '^malpro_build_info\{version="[0-9.]+",log_format_version="1"\} 1$' <<<"$metrics" \
  || fail "no build info"
grep -qE '^malpro_kafka_relay_state\{state="publishing"\} [01]$' <<<"$metrics" \
  || fail "no relay state"
bytes="$(sed -n 's/^malpro_data_dir_bytes //p' <<<"$metrics")"
[ "${bytes:-0}" -gt 0 ] || fail "the data directory holds no bytes: '$bytes'"
stop_server
echo "ok: $(wc -l <<<"$named") metric names and $(wc -l <<<"$routes") route labels served"
