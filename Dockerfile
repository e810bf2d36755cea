# syntax=docker/dockerfile:1
# The healthwatch image: the wheel built from this repository on python:3.11-slim,
# running as an unprivileged user (65532) by default.
#
#   docker build -t REGISTRY/healthwatch:TAG .
#   docker build --build-arg EXTRAS=gpu -t REGISTRY/healthwatch:TAG-gpu .     # NVML
#   docker build --build-arg JOURNALCTL=1 -t REGISTRY/healthwatch:TAG .      # journald sources
#
# Reading the host's kernel log (/dev/kmsg) or journal may need root and privileges that
# an image cannot grant: the Kubernetes manifests in deploy/ set what each monitor needs
# (docs/kubernetes.md, "Privileges").

FROM python:3.11-slim AS build
WORKDIR /src
# Dependencies are pinned to the versions the test suite ran with.
COPY pyproject.toml README.md constraints.txt ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ARG EXTRAS=""
ARG JOURNALCTL=0
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XDG_STATE_HOME=/var/lib
RUN if [ "$JOURNALCTL" = "1" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends systemd \
      && rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=build /wheels /wheels
COPY constraints.txt /tmp/constraints.txt
RUN wheel="$(ls /wheels/healthwatch-*.whl)" \
    && pip install --no-cache-dir --constraint /tmp/constraints.txt \
       "${wheel}${EXTRAS:+[$EXTRAS]}" \
    && rm -rf /wheels /tmp/constraints.txt \
    && install -d -o 65532 -g 65532 /var/lib/healthwatch
USER 65532:65532
WORKDIR /var/lib/healthwatch
# Web 9800 (dashboard, API, check reports), health 9801, metrics 9802. Every listener is
# on loopback unless told otherwise: in a container, pass e.g. --health-listen=0.0.0.0:9801.
EXPOSE 9800 9801 9802
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["healthwatch", "probe", "http://127.0.0.1:9801", "--kind", "live", "--quiet"]
ENTRYPOINT ["healthwatch"]
CMD ["run"]
