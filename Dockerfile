# natter server image: `docker build -t natter .` then see docker-compose.yml for MongoDB.
#
# Without NATTER_DATABASE_URL pointing at MongoDB, the server keeps its embedded store (and the
# generated token signing key) in the /data volume.

# --- widget and console ------------------------------------------------------------------------
# The visitor widget (wasm + loader) and the agent console (wasm) are built first; the server
# embeds `widget/dist` and `console/dist` at compile time. The xtask commands install
# wasm-bindgen-cli and wasm-pack themselves.
FROM rust:1-bookworm AS widget
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add wasm32-unknown-unknown
WORKDIR /src
COPY . .
RUN cargo xtask build-widget && cargo xtask build-console

# --- builder -----------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src

# Dependencies first: this layer is rebuilt only when a manifest or Cargo.lock changes, not on
# every source edit. The workspace needs every member's manifest and a target for each, so the
# sources are stubbed. (A plain builder works; BuildKit cache mounts are not required.)
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY sdk/Cargo.toml sdk/
COPY backend/Cargo.toml backend/
COPY xtask/Cargo.toml xtask/
COPY benches/Cargo.toml benches/
COPY widget/Cargo.toml widget/
COPY console/Cargo.toml console/
RUN mkdir -p sdk/src backend/src xtask/src benches/src widget/src console/src \
 && touch sdk/src/lib.rs backend/src/lib.rs widget/src/lib.rs console/src/lib.rs \
 && for main in backend/src/main.rs xtask/src/main.rs benches/src/main.rs; do \
      echo 'fn main() {}' > "$main"; \
    done \
 && cargo build --release --locked -p natter-server \
 && rm -rf sdk/src backend/src xtask/src benches/src widget/src console/src

# Then the sources. COPY keeps the files' old timestamps, so touch the crate roots to make cargo
# rebuild our crates over the stubs.
COPY sdk sdk
COPY backend backend
COPY xtask xtask
COPY benches benches
COPY widget widget
COPY console console
COPY --from=widget /src/widget/dist widget/dist
COPY --from=widget /src/console/dist console/dist
RUN touch sdk/src/lib.rs backend/src/lib.rs backend/src/main.rs \
 && cargo build --release --locked -p natter-server \
 && install -m 0755 target/release/natter /usr/local/bin/natter

# --- runtime -----------------------------------------------------------------------------------
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 natter \
 && useradd --system --uid 10001 --gid natter --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin natter \
 && mkdir -p /data \
 && chown natter:natter /data

COPY --from=builder /usr/local/bin/natter /usr/local/bin/natter

ENV NATTER_BIND=0.0.0.0:8080 \
    NATTER_DATABASE_URL=/data \
    NATTER_LOG_FORMAT=json

USER natter
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080

# No curl in the image: bash's /dev/tcp is enough to ask /readyz for a 200.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

ENTRYPOINT ["natter"]
CMD ["serve"]
