# The patient-portal API on Deno 2.9.6. Dependencies are installed at build time (`deno install`, from the lockfile),
# so the container needs no network to start; it runs as a non-root user with `deno task start` (the task's own
# permission flags) and is health-checked on GET /ready.
#
#   docker build -t patient-portal .
#   docker run --rm -p 8000:8000 -e APP_ENV=production -e DATABASE_URL=... -e JWT_PRIVATE_KEY=... \
#     -e PUBLIC_URL=https://portal.example -e MAIL_TRANSPORT=smtp -e SMTP_HOST=... patient-portal
#
# The image defaults to APP_ENV=production, which refuses to start without its keys, database and public URL;
# to try it on the embedded database: -e APP_ENV=development -v portal-data:/data.
ARG DENO_VERSION=2.9.6

FROM denoland/deno:debian-${DENO_VERSION} AS build
WORKDIR /app
ENV DENO_DIR=/deno-dir DENO_NO_UPDATE_CHECK=1 PGLITE_TEMPLATE_DIR=/pglite-templates
COPY deno.json deno.lock ./
# The patched postgres.js that deno.json maps in place of the registry's (vendor/postgres/PATCHED.md).
COPY vendor/ vendor/
# The npm packages (the argon2 addon's binary for this platform included) into node_modules/ and DENO_DIR.
RUN deno install --frozen
COPY . .
# Everything the server (and its hashing worker) and the tasks import, cached ahead; then the data directory.
RUN deno install --frozen --entrypoint main.ts services/argon2_worker.ts scripts/migrate.ts \
  scripts/createsuperuser.ts scripts/seed_demo.ts \
  && mkdir -p /data
# The embedded database's template (initialised and migrated), so a first start copies it instead of running initdb.
RUN deno task pglite:template

# Distroless: glibc (for the argon2 addon) and deno, no shell, no package manager.
FROM denoland/deno:distroless-${DENO_VERSION}
WORKDIR /app
ENV DENO_DIR=/deno-dir DENO_NO_UPDATE_CHECK=1 APP_ENV=production HOST=0.0.0.0 PORT=8000 DATA_DIR=/data \
  SHUTDOWN_GRACE_MS=8000 PGLITE_TEMPLATE_DIR=/pglite-templates
COPY --from=build --chown=1993:1993 /deno-dir /deno-dir
COPY --from=build --chown=1993:1993 /pglite-templates /pglite-templates
COPY --from=build --chown=1993:1993 /app /app
COPY --from=build --chown=1993:1993 /data /data
VOLUME /data
# Not root: uid/gid 1993 (the `deno` user of the official images).
USER 1993:1993
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch(`http://127.0.0.1:${Deno.env.get('PORT') ?? 8000}/ready`).catch(() => null); await r?.body?.cancel(); Deno.exit(r?.ok ? 0 : 1)"]
# deno task forwards SIGTERM to the server, which drains within SHUTDOWN_GRACE_MS (8 s: below docker stop's 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["deno"]
CMD ["task", "start"]
