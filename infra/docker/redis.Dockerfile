# Redis 7 from Debian's packages, for an engine that cannot pull the official
# image (compose uses it when REDIS_IMAGE names it). Data in /data, as there.
ARG BASE_IMAGE=task-engine-base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o redis -g redis /data
USER redis
WORKDIR /data
EXPOSE 6379
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data"]
