# Dockerfile: sluice in a container (docs/install.md "Containers"). Two stages: a build
# on Debian 12 with the -dev packages, then a slim runtime with only the shared libraries
# and nats-server (the embedded broker). The image runs `sluice server` as the
# unprivileged user `sluice`, with its state in the volume /var/lib/sluice.
#
#   docker build -t sluice .
#   docker run -p 127.0.0.1:8020:8020 -v sluice-data:/var/lib/sluice sluice
#
# This file is not built in sluice's own CI (no Docker engine there): keep it to the
# commands scripts/install-deps.sh and scripts/package.sh already run.
FROM debian:12 AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libpq-dev libmariadb-dev libnats-dev libmicrohttpd-dev \
      libjansson-dev libcurl4-openssl-dev libssl-dev libsodium-dev libzstd-dev libsnappy-dev \
      zlib1g-dev ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_TESTS=OFF \
    && cmake --build /build -j"$(nproc)" --target sluice \
    && strip /build/sluice

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpq5 libmariadb3 libnats3.4 libmicrohttpd12 libjansson4 libcurl4 libssl3 libsodium23 \
      libzstd1 libsnappy1v5 zlib1g nats-server ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/sluice --shell /usr/sbin/nologin sluice \
    && install -d -m 0700 -o sluice -g sluice /var/lib/sluice
COPY --from=build /build/sluice /usr/bin/sluice
USER sluice
VOLUME /var/lib/sluice
EXPOSE 8020
# Inside a container the API must listen on all interfaces to be reachable; every /api
# call needs the key (from --api-key-file, a mounted secret, or printed on the first start).
ENTRYPOINT ["/usr/bin/sluice"]
CMD ["server", "--data-dir", "/var/lib/sluice", "--listen", "0.0.0.0:8020"]
