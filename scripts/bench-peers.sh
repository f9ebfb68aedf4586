#!/usr/bin/env bash
# Portcullis beside the Python servers its users would otherwise pick (FastAPI,
# Flask-JWT-Extended), measured by ../shared/bench/run.sh at equal argon2 cost.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
export BENCH_ARGON2=owasp
export RUST_NAME=portcullis
# Portcullis as it ships: generated EdDSA keys (PORTCULLIS_JWT_ALG, default EdDSA, passes through;
# HS256=1 signs with the harness's shared secret instead, as the Python peers do).
if [ "${HS256:-0}" = 1 ]; then secret='PORTCULLIS_JWT_SECRET=$BENCH_JWT_SECRET '; else secret=''; fi
# One account signing in from one address at 64 connections is what the sign-in throttle is for
# (attempts are counted before their hash): lift it, as scripts/bench.sh does, so c) and d)
# measure hashing throughput. The peers have no throttle.
export RUST_SERVER_CMD="PORTCULLIS_ADDR=127.0.0.1:\$PORT PORTCULLIS_THROTTLE_ACCOUNT=1000000 PORTCULLIS_THROTTLE_IP=1000000 ${secret}PORTCULLIS_KEY_FILE=\${BENCH_DB_PATH}.key RUST_LOG=warn exec ./target/release/portcullis serve"
export RUST_CREATE_USER_CMD='echo "$BENCH_PASSWORD" | ./target/release/portcullis user add "$BENCH_USER" && python3 -c "import os, sqlite3; print(\"bench-argon2: stored hash of \" + os.environ[\"BENCH_USER\"] + \": \" + sqlite3.connect(os.environ[\"BENCH_DB_PATH\"]).execute(\"select password_hash from users\").fetchone()[0])"'
export RUST_CREATE_USER_WHEN=before
export RUST_HEALTH_PATH=/healthz RUST_LOGIN_PATH=/api/auth/token RUST_LOGIN_FORMAT=form RUST_ME_PATH=/api/me
# Arguments replace the default targets (e.g. `--only rust` to rerun Portcullis alone).
if [ $# -gt 0 ]; then exec ../shared/bench/run.sh "$@"; fi
exec ../shared/bench/run.sh fastapi flask rust
