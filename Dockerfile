# TernMQ image. Build the tarball first, then the image from the repository's root:
#   ./mvnw -DskipTests package
#   docker build --build-arg TERNMQ_VERSION=0.1.0-SNAPSHOT -t ternmq .
# docs/operations.md, "Docker".
FROM debian:bookworm-slim

ARG TERNMQ_VERSION=0.1.0-SNAPSHOT

RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 ternmq \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/ternmq --shell /usr/sbin/nologin ternmq \
    && mkdir -p /var/lib/ternmq /etc/ternmq \
    && chown ternmq:ternmq /var/lib/ternmq

# ADD unpacks a local tarball: /opt/ternmq-VERSION/{bin,conf,lib,...}
ADD ternmq-dist/target/ternmq-${TERNMQ_VERSION}.tar.gz /opt/
RUN ln -s /opt/ternmq-${TERNMQ_VERSION} /opt/ternmq \
    && touch /etc/ternmq/passwd /etc/ternmq/admin.passwd \
    && chmod 0600 /etc/ternmq/passwd /etc/ternmq/admin.passwd \
    && chown -R ternmq:ternmq /etc/ternmq
COPY ternmq-dist/src/docker/ternmq.conf /etc/ternmq/ternmq.conf

USER 10001
VOLUME /var/lib/ternmq
# MQTT, MQTT over TLS, MQTT over WebSocket, the admin listener (the shipped configuration opens 1883 and, on the
# container's loopback, 9883; 8883 and 9001 once configured)
EXPOSE 1883 8883 9001 9883

# no curl in the image: bash's /dev/tcp asks the admin listener whether the broker is ready (200, else 503)
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9883 && printf 'GET /health/ready HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# SIGTERM (docker stop) stops the broker in order and exits 0
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/ternmq/bin/ternmq"]
CMD ["-c", "/etc/ternmq/ternmq.conf"]
