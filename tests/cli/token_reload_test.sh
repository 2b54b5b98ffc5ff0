#!/usr/bin/env bash
# SIGHUP makes `malpro serve` read the tokens of its configuration file again, without a
# restart: a token taken out is refused at once and the browser sessions opened with it end; a
# token put in works; the other tokens and their sessions go on; a file that no longer loads
# leaves the tokens in use and says why. Only SIGINT and SIGTERM stop the server.
# Usage: token_reload_test.sh MALPRO_BINARY SOURCE_DIR
set -euo pipefail
malpro="$1"
source_dir="$2"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# A copy of the shipped configuration, Kafka off.
use_config_copy
sed -i -e '/^\[kafka\]/,/^\[/ s/^enabled = true$/enabled = false/' "$config"
start_serve
grep -q "kill -HUP $server_pid reloads the tokens" "$work/serve.log" ||
  fail "serve does not say how to reload the tokens: $(cat "$work/serve.log")"

# Signs in with TOKEN; prints the cookie jar's file.
sign_in() {  # token name
  curl -fsS -c "$work/$2.jar" -o /dev/null -X POST "$api/v1/session" -d "{\"token\":\"$1\"}" ||
    fail "signing in with $1 failed"
}
sign_in dev-admin admin
sign_in dev-operator operator
[ "$(http_status -b "$work/admin.jar" "$api/v1/session")" = 200 ] || fail "no admin session"

# Rotate: dev-admin out, a new admin token in; the rest as they were.
new_hash="$(printf '%s' 'rotated-admin-7f3a' | sha256sum | cut -d' ' -f1)"
sed -i "s/de72d648e29b247c1875138a7140256dbe5df3e6c9f37d592b07d9de509d2878/$new_hash/" "$config"
kill -HUP "$server_pid"
for _ in $(seq 1 50); do
  grep -q 'SIGHUP: 5 tokens reloaded' "$work/serve.log" && break
  sleep 0.1
done
grep -q "^malpro: SIGHUP: 5 tokens reloaded from $config (nothing else is reloaded); 1 sign-in sessions of tokens no longer there closed" \
  "$work/serve.log" || fail "the reload said: $(cat "$work/serve.log")"
[ "$(http_status -H 'Authorization: Bearer dev-admin' "$api/v1/stats")" = 401 ] ||
  fail "the token taken out still works"
[ "$(http_status -H 'Authorization: Bearer rotated-admin-7f3a' "$api/v1/stats")" = 200 ] ||
  fail "the token put in does not work"
[ "$(http_status -H 'Authorization: Bearer dev-auditor' "$api/v1/stats")" = 200 ] ||
  fail "a token left in place stopped working"
[ "$(http_status -b "$work/admin.jar" "$api/v1/session")" = 401 ] ||
  fail "the session of the token taken out goes on"
[ "$(http_status -b "$work/operator.jar" "$api/v1/session")" = 200 ] ||
  fail "the session of a token left in place ended"

# A file that does not load: the tokens in use stay, and the server says why.
printf '[http\n' >> "$config"
kill -HUP "$server_pid"
for _ in $(seq 1 50); do
  grep -q 'tokens not reloaded' "$work/serve.err" && break
  sleep 0.1
done
grep -q 'SIGHUP: tokens not reloaded, the tokens in use stay: .*config_syntax' "$work/serve.err" ||
  fail "a broken file's reload said: $(cat "$work/serve.err")"
[ "$(http_status -H 'Authorization: Bearer rotated-admin-7f3a' "$api/v1/stats")" = 200 ] ||
  fail "a failed reload changed the tokens"
kill -0 "$server_pid" || fail "SIGHUP stopped the server"
stop_server
grep -q 'stopped; the log is closed cleanly' "$work/serve.log" || fail "serve did not stop cleanly"
echo "token reload: rotated on SIGHUP, sessions of removed tokens closed, a broken file refused"
