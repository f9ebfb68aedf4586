#!/usr/bin/env bash
# Makes the upgrade fixtures: tests/fixtures/<version>.sqlite and <version>.postgres.sql, a
# database of each backend with this version's schema and a little data (an administrator, a
# user with a session and security events). Run it when a release changes the schema, and
# commit the result: tests/api/upgrade.rs starts today's binary on every fixture ever committed,
# which is how migrations across versions are tested without building old releases.
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
# BIN=path/to/portcullis uses a binary already built from this checkout.
if [ -z "${BIN:-}" ]; then cargo build -q; BIN="$PWD/target/debug/portcullis"; fi
out="$PWD/tests/fixtures"
work="$(mktemp -d)"
pg_db="portcullis_fixture_$$"
export PORTCULLIS_KEY_FILE="$work/key" RUST_LOG=warn
password="fixture passphrase for upgrade tests"
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# fill DATABASE_URL: two accounts, a sign-in (a session, login_succeeded) and a failed one.
fill() {
  echo "$password" | "$BIN" user add admin@fixture.test --admin >/dev/null
  echo "$password" | "$BIN" user add user@fixture.test >/dev/null
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  PORTCULLIS_ADDR="127.0.0.1:$port" "$BIN" serve & pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  curl -fsS -o /dev/null -d grant_type=password -d username=user@fixture.test \
    --data-urlencode "password=$password" "http://127.0.0.1:$port/api/auth/token"
  curl -sS -o /dev/null -d grant_type=password -d username=user@fixture.test \
    -d password=wrong "http://127.0.0.1:$port/api/auth/token"
  sleep 1  # the failed sign-in's event is written after the answer
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

DATABASE_URL="$work/fixture.db" fill
rm -f "$out/$version.sqlite"
DATABASE_URL="$work/fixture.db" "$BIN" backup "$out/$version.sqlite" >/dev/null
chmod 0644 "$out/$version.sqlite"

psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $pg_db"
DATABASE_URL="postgres://postgres@127.0.0.1:5432/$pg_db" fill
pg_dump --no-owner --no-privileges -h 127.0.0.1 -U postgres "$pg_db" > "$out/$version.postgres.sql"
echo "wrote $out/$version.sqlite and $out/$version.postgres.sql"
