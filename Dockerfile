# kiemtra server image: build stage with the -dev packages, slim runtime stage.
FROM debian:12 AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        cmake make gcc pkg-config libevent-dev libpq-dev libjansson-dev libsodium-dev \
        libxml2-dev libzip-dev libutf8proc-dev libxlsxwriter-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY engine engine
COPY itembank itembank
COPY gateway gateway
COPY tests tests
COPY bench bench
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    && cmake --build build -j"$(nproc)" --target kiemtra

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        libevent-2.1-7 libevent-pthreads-2.1-7 libpq5 libjansson4 libsodium23 libxml2 \
        libzip4 libutf8proc2 libxlsxwriter4 postgresql-client curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /nonexistent --shell /usr/sbin/nologin kiemtra
COPY --from=build /src/build/kiemtra /usr/local/bin/kiemtra
COPY migrations /usr/share/kiemtra/migrations
COPY demo /usr/share/kiemtra/demo
COPY web /usr/share/kiemtra/web
ENV KIEMTRA_MIGRATIONS_DIR=/usr/share/kiemtra/migrations \
    KIEMTRA_DEMO_DIR=/usr/share/kiemtra/demo \
    KIEMTRA_WEB_ROOT=/usr/share/kiemtra/web \
    KIEMTRA_LISTEN=0.0.0.0 \
    KIEMTRA_PORT=8080
USER kiemtra
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["kiemtra"]
CMD ["serve"]
