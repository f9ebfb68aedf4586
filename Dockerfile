# Portcullis in a container: a static-enough release binary on a small Debian base.
#   docker build -t portcullis .
#   docker run -p 8080:8080 -v portcullis-data:/data \
#     -e PORTCULLIS_PUBLIC_URL=https://auth.example.com portcullis
# Templates and static assets are compiled into the binary; the SQLite database and the key
# file live in /data (a volume). For PostgreSQL, set DATABASE_URL=postgres://… instead.

FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked && strip target/release/portcullis

FROM debian:bookworm-slim
# libpq5: the PostgreSQL client library (linked even when running on SQLite);
# ca-certificates: SMTP over TLS.
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data --shell /usr/sbin/nologin portcullis \
    && mkdir /data && chown portcullis /data
COPY --from=build /src/target/release/portcullis /usr/local/bin/portcullis
USER portcullis
WORKDIR /data
ENV DATABASE_URL=/data/portcullis.db \
    PORTCULLIS_KEY_FILE=/data/portcullis.key \
    PORTCULLIS_ADDR=0.0.0.0:8080 \
    PORTCULLIS_LOG_FORMAT=json
# Probes: GET /healthz (liveness) and GET /readyz (the database answers) on port 8080.
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/portcullis"]
CMD ["serve"]
