# syntax=docker/dockerfile:1

# The one image of the system: the `shop` binary and nothing else. It runs the whole
# system in one process (`shop up`, the default) or one service (`shop serve <service>`).
#   docker build -t shop .
#   docker run -p 8080:8080 shop
#   docker run -e SHOP_HEALTHCHECK_SERVICE=order shop serve order   (one service)

# chef: the toolchain and cargo-chef, shared by the planner and the builder so that both
# see the same cargo. The Rust version is the one the workspace is built and tested with;
# Bookworm, because the binary must link against a glibc no newer than the runtime
# image's (Debian 12).
FROM rust:1.95.0-bookworm AS chef
# librdkafka is built from source by rdkafka-sys: its configure script and Makefile need
# bash, a C compiler, make, perl and python3 (its version script); named here rather than
# trusted to the base image. DL3008 (pin apt versions) is ignored: nothing installed here
# ships, and Debian drops superseded versions from its mirrors, so a pin would only break
# the build.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make perl python3 \
    && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --version 0.1.78 --locked
WORKDIR /src

# planner: reduces the workspace to its manifests and Cargo.lock (recipe.json). The recipe
# changes only when dependencies do, so editing a source file does not invalidate the
# cached dependency layer below.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

# builder: first the dependencies alone, from the recipe (the slow, cached layer), then
# the workspace's own crates.
FROM chef AS builder
# zlib (which librdkafka compresses with) is compiled in rather than linked as libz.so:
# the runtime image has no zlib. Set before the dependencies build, so both builds agree.
ENV LIBZ_SYS_STATIC=1
COPY --from=planner /src/recipe.json recipe.json
RUN cargo chef cook --release --locked -p shop --bin shop --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked -p shop --bin shop \
    && mkdir /data

# runtime: glibc, libgcc and CA certificates, no shell and no package manager; the
# distroless user nonroot (65532). The user is numeric so that Kubernetes can verify
# runAsNonRoot.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=builder /src/target/release/shop /usr/local/bin/shop
# The embedded stores and the event log. A volume, so that the data outlives the
# container and the root filesystem can be read-only (Kubernetes mounts a volume here).
COPY --from=builder --chown=65532:65532 /data /data
ENV SHOP_HOST=0.0.0.0 \
    SHOP_DATA_DIR=/data
VOLUME ["/data"]
USER 65532:65532
# The gateway of `shop up`; `shop serve <service>` listens on that service's port.
EXPOSE 8080
# The binary asks its own /healthz (the gateway, unless SHOP_HEALTHCHECK_SERVICE or an
# argument names another service); there is no shell or curl here to do it.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/shop", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/shop"]
CMD ["up"]
