# The gateway's container image, as the Helm chart runs it.
#
#   docker build -t registry.region-normandie.fr/passerelle/passerelle:0.1.0 .
#
# Build stage: the release binary (Cargo.lock pins the dependencies; --locked
# refuses drift), with the registry and build directory in BuildKit caches.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p passerelle \
    && cp target/release/passerelle /passerelle

# Runtime stage: glibc and CA certificates, no shell, non-root (65532). TLS
# is rustls and SQLite is built in, so nothing else is needed.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /passerelle /usr/local/bin/passerelle
USER 65532:65532
EXPOSE 4000
ENTRYPOINT ["/usr/local/bin/passerelle"]
CMD ["serve", "--config", "/etc/passerelle/passerelle.json"]
