#!/usr/bin/env bash
# HTTP benchmark of a release build with wrk. Usage: scripts/bench.sh [sqlite|postgres]
# Prints req/s and p99 for /healthz, /api/me (Bearer and cookie), sign-ins per second,
# /api/me under a sign-in flood, and the server's peak RSS. Knobs: DURATION (s), CONNS, THREADS,
# BIN (another build), ONLY=flood (the last row alone).
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND="${1:-sqlite}"
DURATION="${DURATION:-10}"; CONNS="${CONNS:-64}"; THREADS="${THREADS:-2}"
BIN="${BIN:-./target/release/portcullis}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
[ -x "$BIN" ] || cargo build --release

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
user="bench@example.com"; password="correct horse battery staple"
case "$BACKEND" in
  sqlite) db="$work/bench.db" ;;
  postgres)
    pg_db="portcullis_bench_$$"
    psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $pg_db"
    db="postgres://postgres@127.0.0.1:5432/$pg_db" ;;
  *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;;
esac
export DATABASE_URL="$db" PORTCULLIS_ADDR="127.0.0.1:$port" PORTCULLIS_KEY_FILE="$work/key" RUST_LOG=warn
# One account signing in from one address at 64 connections is what a throttle is for: lift it,
# so the sign-in rows measure hashing throughput (attempts are counted before their hash).
export PORTCULLIS_THROTTLE_ACCOUNT=1000000 PORTCULLIS_THROTTLE_IP=1000000
base="http://127.0.0.1:$port"

cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "${pg_db:-}" ] && psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "$password" | "$BIN" user add "$user" >/dev/null
"$BIN" serve & pid=$!
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
login() { curl -fsS -d grant_type=password --data-urlencode "username=$user" --data-urlencode "password=$password" "$base/api/auth/token"; }
token="$(login | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

cat > "$work/bearer.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
LUA
cat > "$work/cookie.lua" <<LUA
wrk.headers["Cookie"] = "access_token=$token"
LUA
cat > "$work/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=password&username=bench%40example.com&password=correct+horse+battery+staple"
LUA

# run LABEL PATH [LUA]: one wrk run, summarised as "label  req/s  p99".
run() {
  local label="$1" path="$2" script="${3:-}" out
  out="$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency --timeout 30s ${script:+-s "$script"} "$base$path")"
  printf '%-34s %10s req/s   p99 %s\n' "$label" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")"
  if grep -q "Non-2xx" <<<"$out"; then grep "Non-2xx" <<<"$out"; fi
}

echo "backend: $BACKEND   wrk -t$THREADS -c$CONNS -d${DURATION}s   cores: $(nproc)"
# ONLY=flood measures the last row alone (for comparing builds on the flood's tail).
if [ "${ONLY:-}" != flood ]; then
  run "GET /healthz" /healthz
  run "GET /api/me (Bearer)" /api/me "$work/bearer.lua"
  run "GET /api/me (cookie)" /api/me "$work/cookie.lua"
  run "POST /api/auth/token (sign-ins)" /api/auth/token "$work/login.lua"
  sleep 2  # let queued sign-ins drain
fi
# /api/me while a sign-in flood runs: the flood starts first and keeps going past the measurement.
wrk -t1 -c32 -d"$((DURATION + 6))s" --timeout 30s --latency -s "$work/login.lua" "$base/api/auth/token" \
  >"$work/flood.out" &
flood=$!
sleep 3
THREADS=1 run "GET /api/me during a sign-in flood" /api/me "$work/bearer.lua"
wait "$flood" || true
# What the flood itself got meanwhile: hashing yields to requests, so sign-ins pay for that.
printf '%-34s %10s req/s   p99 %s\n' "  the flood's sign-ins (whole run)" \
  "$(awk '/Requests\/sec/ {print $2}' "$work/flood.out")" "$(awk '$1 == "99%" {print $2}' "$work/flood.out")"
echo "peak RSS: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$pid/status")"
