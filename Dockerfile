# syntax=docker/dockerfile:1.7
# MissionLink: one image for every role (api, settlement, notifier, sweeper).
# The role is chosen at run time with ROLES; the command is
# `node bin/missionlink.js serve` (override the arguments with `migrate` for a
# migration job).
#
# Build:  docker build -t missionlink:dev .
# Run:    docker run -e ROLES=api -e DATABASE_URL_IDENTITY=... -e DATABASE_URL_FUNDING=... missionlink:dev

ARG NODE_VERSION=20.20.2

# ---- build: full install, web app build, then drop the dev dependencies ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
ENV NODE_ENV=development \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# The browser app (web/dist) is served by the api role; the server runs from
# its bundle (dist/server, made after the sources were copied, so it is fresh).
RUN npm run build:web \
 && npm run build:server \
 && npm prune --omit=dev \
 && npm cache clean --force \
 && rm -rf test bench deploy docs .github .ci

# ---- runtime: distroless Node, no shell, no package manager, non-root ----
# The app runs from its bundle (dist/server/cli.mjs); should the bundle be
# older than a source, it falls back to the tsx loader (a runtime dependency),
# whose transform cache lives in /tmp: mount a writable /tmp (an emptyDir in
# Kubernetes) when the root filesystem is read-only.
FROM gcr.io/distroless/nodejs20-debian12:nonroot AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/var/lib/missionlink
COPY --from=build --chown=0:0 /app/package.json /app/package-lock.json ./
COPY --from=build --chown=0:0 /app/node_modules ./node_modules
COPY --from=build --chown=0:0 /app/bin ./bin
COPY --from=build --chown=0:0 /app/src ./src
COPY --from=build --chown=0:0 /app/migrations ./migrations
COPY --from=build --chown=0:0 /app/web/dist ./web/dist
COPY --from=build --chown=0:0 /app/dist ./dist
# 65532 is distroless's "nonroot" user; numeric so Kubernetes can verify runAsNonRoot.
USER 65532:65532
EXPOSE 8080
VOLUME ["/var/lib/missionlink", "/tmp"]
# (Kubernetes ignores HEALTHCHECK and uses the probes in deploy/; this is for docker/podman.)
HEALTHCHECK --interval=30s --timeout=3s --retries=5 \
  CMD ["/nodejs/bin/node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/nodejs/bin/node", "bin/missionlink.js"]
CMD ["serve"]
