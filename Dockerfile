# syntax=docker/dockerfile:1
#
# The flowgate runtime image: Node.js 20 and the flowgate CLI, ENTRYPOINT ["flowgate"].
#
#   docker build -t flowgate:0.1.0 .
#   docker run --rm flowgate:0.1.0 --version
#
# `flowgate export kubernetes | docker-compose` runs every Executor, head and Gateway from it. An
# Executor (or custom Gateway) image starts FROM it and adds its code under /app, the working
# directory, where `uses` paths are read relative to (see docs/deploy.md):
#
#   FROM flowgate:0.1.0
#   COPY --chown=node:node . /app
#   ENTRYPOINT ["flowgate", "executor", "--uses", "config.yml"]
#
# Code under /app imports 'flowgate' from /node_modules/flowgate (this copy): do not install
# another copy of flowgate in the image.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: install everything, compile, then keep only the production dependencies -----------
FROM ${NODE_IMAGE} AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY proto ./proto
COPY src ./src
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund \
  && rm -rf src scripts tsconfig.json tsconfig.build.json

# --- runtime ------------------------------------------------------------------------------------
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
COPY --from=build /build /usr/local/lib/node_modules/flowgate
RUN chmod +x /usr/local/lib/node_modules/flowgate/dist/cli/main.js \
  && ln -s ../lib/node_modules/flowgate/dist/cli/main.js /usr/local/bin/flowgate \
  && mkdir -p /node_modules /app /flowgate \
  && ln -s /usr/local/lib/node_modules/flowgate /node_modules/flowgate \
  && chown node:node /app
WORKDIR /app
USER node
# Executors and heads listen on 8080 in Kubernetes (8081 in Compose); the Gateway as configured.
EXPOSE 8080
ENTRYPOINT ["flowgate"]
CMD ["--help"]
