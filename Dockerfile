# Worker image: compiled JavaScript, production dependencies only. A `sandbox` stage serves local trials.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY tooling tooling
COPY workflows workflows
COPY activities activities
COPY scripts scripts
# bin/run-ts.js runs the step of `npm run build` that prebuilds the workflow bundle. Not test/ or bench/:
# nothing tsconfig.build.json compiles imports them (test/unit/deploy.test.ts checks this).
COPY bin bin
RUN npm run build
# An empty directory for the runtime stage's export directory (COPY creates it there with its owner).
RUN mkdir -p exports

# `docker compose --profile sandbox`: the m3ter sandbox, a simulator for a local trial. The same compiled
# code with every production dependency, the sandbox's HTTP framework included, which the worker removes.
FROM node:24-bookworm-slim AS sandbox
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
COPY bin bin
COPY --from=build /app/dist dist
USER node
ENTRYPOINT ["node", "--scavenger-max-new-space-capacity-mb=8", "--optimize-for-size", "bin/m3ter-exports.js"]
CMD ["sandbox", "--host", "0.0.0.0", "--port", "8080"]

# The worker image, built by default (the last stage). Both stages start node with the heap flags of
# src/runtime/heap-flags.ts for the Node.js of the base image: they hold only when given at start.
FROM node:24-bookworm-slim AS worker
ENV NODE_ENV=production
# Probes and scrapers reach a container from outside it; the worker's own default is loopback.
ENV HEALTH_HOST=0.0.0.0 METRICS_HOST=0.0.0.0
ENV EXPORT_DIR=/exports
# Two malloc arenas instead of glibc's default of several per core: the SDK's native threads each kept an
# arena of their own, largely free. A fixed mmap threshold (glibc's starting value) stops glibc from raising
# it after the first large free, so buffers of 128 KiB and more go back to the system when freed instead of
# staying resident in the heap. The trim threshold is fixed above the buffer memory V8 lets a download
# allocate between two collections, so the heap does not hand that memory back after every collection only
# to fault it in again (docs/deploying.md).
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=67108864
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts in the image that runs: the compiled worker needs none, and a dependency's script is
# code run at build time that nothing reviewed. fastify, the sandbox's HTTP framework, is removed: the worker
# never loads it. (It stays a dependency, not an optional one: npm skips an optional dependency whose tree
# names an engine the running Node.js is not, and the sandbox must run from a checkout on every engine.)
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm uninstall --no-save --omit=dev --ignore-scripts --no-audit --no-fund fastify
COPY bin bin
COPY --from=build /app/dist dist
# Owned by the user the worker runs as: a named volume mounted here starts as a copy of it, ownership
# included, so the worker can write its exports there.
COPY --chown=node:node --from=build /app/exports /exports
USER node
ENTRYPOINT ["node", "--scavenger-max-new-space-capacity-mb=8", "--optimize-for-size", "bin/m3ter-exports.js"]
CMD ["worker"]
