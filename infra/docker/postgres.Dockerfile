# PostgreSQL 15 from Debian's packages, for an engine that cannot pull the
# official image (compose uses it when POSTGRES_IMAGE names it). It honours the
# official image's POSTGRES_PASSWORD and POSTGRES_DB and keeps its data in
# /var/lib/postgresql/data.
ARG BASE_IMAGE=task-engine-base:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o postgres -g postgres -m 700 /var/lib/postgresql/data \
 && install -d -o postgres -g postgres /var/run/postgresql
COPY infra/docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
USER postgres
ENV PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:$PATH
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
