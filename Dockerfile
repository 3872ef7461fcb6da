# Probity: multi-stage build. The build stage compiles a release binary against libpq; the runtime
# stage is Debian slim with libpq5, running as an unprivileged user.
#
#   docker build -t probity .
#   docker run --rm -p 8080:8080 --env-file probity.env -v probity-data:/app/data probity
#
# See docs/deployment.md for the required secrets and settings.

# ---------- build ----------
FROM rust:1.95-bookworm AS build

# diesel's PostgreSQL backend links libpq (pq-sys). SQLite is bundled (libsqlite3-sys "bundled"),
# so it needs only the C compiler the image already has.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# 1. Dependencies only, cached until Cargo.toml or Cargo.lock changes: build a dummy crate with the
#    real manifest. The [[test]] target tests/api/main.rs and the [[bench]] target
#    benches/hashing.rs are not built, but get stubs so the manifest's target paths all exist.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src tests/api benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > tests/api/main.rs \
    && echo 'fn main() {}' > benches/hashing.rs \
    && cargo build --release --locked --bin probity \
    && rm -f src/main.rs src/lib.rs

# 2. The real crate. The source embeds config/ (default.toml, calendar/, demo/,
#    common-passwords.txt), templates/ (email/ and the askama pages in web/), static/ (the pages'
#    stylesheet and script) and migrations/ (embed_migrations!), so those come first.
COPY config ./config
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
COPY src ./src
# COPY keeps the files' original modification times, which can be older than the dummy build's,
# so Cargo could keep the dummy binary. Remove Probity's own build artefacts to force a rebuild
# (the dependencies stay cached). The dummy prints no version, so the last line catches it.
RUN rm -rf target/release/.fingerprint/probity-* \
           target/release/deps/probity-* \
           target/release/deps/libprobity-* \
           target/release/probity \
    && cargo build --release --locked --bin probity \
    && ./target/release/probity --version | grep -q '^probity '

# ---------- runtime ----------
FROM debian:bookworm-slim AS runtime

# libpq5 for PostgreSQL, ca-certificates for TLS to PostgreSQL, curl for HEALTHCHECK.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 probity \
    && useradd --system --uid 10001 --gid probity --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin probity

WORKDIR /app

COPY --from=build /build/target/release/probity /usr/local/bin/probity
# config/ holds production.toml (listen on 0.0.0.0, mail on, JSON logs); PROBITY_ENV picks it.
# The email templates are compiled into the binary; templates/ is shipped for reference.
COPY config /app/config
COPY templates /app/templates

# The data folder: the SQLite database when no PostgreSQL URL is given, and encrypted attachments.
# Created and chowned before VOLUME, since changes after VOLUME are discarded.
RUN mkdir -p /app/data && chown probity:probity /app/data
VOLUME ["/app/data"]

ENV PROBITY_ENV=production \
    PROBITY_CONFIG_DIR=/app/config

USER 10001:10001

EXPOSE 8080

# Liveness only; load balancers should route on /readyz (see docs/deployment.md).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1

# SIGTERM (docker stop) starts a graceful shutdown: in-flight requests get
# server.shutdown_timeout_secs (30 s by default), so give `docker stop` more than that.
STOPSIGNAL SIGTERM

ENTRYPOINT ["probity"]
CMD ["serve"]
