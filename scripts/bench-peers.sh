#!/usr/bin/env bash
# Portcullis beside the Python servers its users would otherwise pick (FastAPI,
# Flask-JWT-Extended), measured by ../shared/bench/run.sh at equal argon2 cost.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release
export BENCH_ARGON2=owasp
export RUST_NAME=portcullis
export RUST_SERVER_CMD='PORTCULLIS_ADDR=127.0.0.1:$PORT PORTCULLIS_JWT_SECRET=$BENCH_JWT_SECRET PORTCULLIS_KEY_FILE=${BENCH_DB_PATH}.key RUST_LOG=warn exec ./target/release/portcullis serve'
export RUST_CREATE_USER_CMD='echo "$BENCH_PASSWORD" | ./target/release/portcullis user add "$BENCH_USER" && python3 -c "import os, sqlite3; print(\"bench-argon2: stored hash of \" + os.environ[\"BENCH_USER\"] + \": \" + sqlite3.connect(os.environ[\"BENCH_DB_PATH\"]).execute(\"select password_hash from users\").fetchone()[0])"'
export RUST_CREATE_USER_WHEN=before
export RUST_HEALTH_PATH=/healthz RUST_LOGIN_PATH=/api/auth/token RUST_LOGIN_FORMAT=form RUST_ME_PATH=/api/me
exec ../shared/bench/run.sh fastapi flask rust "$@"
