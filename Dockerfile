# One image, both binaries: `control-plane` and `data-plane` (docker-compose.yml picks one
# per service with `command:`). The web console is built in its own stage so that the Rust
# build never needs Node.

# --- the web console's static assets ---------------------------------------------------
FROM node:20-bookworm-slim AS console
WORKDIR /console
COPY web-console/ ./
# Until the console exists the stage yields an empty dist/, and the control plane serves a
# page saying how to build it.
# `npm install` (which keeps package-lock.json's versions): this npm writes lock files
# without other platforms' optional packages, which `npm ci` then refuses.
RUN if [ -f package.json ]; then npm install --no-audit --no-fund && npm run build; else mkdir -p dist; fi

# --- the Rust workspace ----------------------------------------------------------------
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# protoc comes from the protoc-bin-vendored crate and the migrations are embedded in the
# control-plane binary (sqlx::migrate!): nothing else to install or copy.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p apigw-control-plane -p apigw-data-plane \
    && mkdir -p /out \
    && cp target/release/control-plane target/release/data-plane /out/

# --- runtime -----------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 apigw \
    && mkdir -p /var/lib/apigw/data-plane && chown apigw /var/lib/apigw/data-plane
COPY --from=build /out/control-plane /out/data-plane /usr/local/bin/
COPY --from=console /console/dist /srv/web-console/dist
WORKDIR /srv
USER apigw
# Listen on all interfaces inside the container; the compose file maps the ports.
ENV CP_HTTP_ADDR=0.0.0.0:8080 \
    CP_GRPC_ADDR=0.0.0.0:9090 \
    DP_HTTP_ADDR=0.0.0.0:8081 \
    CONSOLE_DIR=/srv/web-console/dist \
    LOG_FORMAT=json
EXPOSE 8080 9090 8081
CMD ["control-plane"]
