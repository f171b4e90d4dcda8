# syntax=docker/dockerfile:1
# Network Link Gateway: the gateway, and the demo legacy exchange from the same image.
#   docker build -t nlgw .
#   docker run -p 8000:8000 -p 9464:9464 -e NLGW_CONFIG=/config/gateway.yaml -v $PWD/config/prod:/config:ro nlgw

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off: `prepare` would compile before the sources are here. The secp256k1
# binding ships prebuilt binaries and needs no install script.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY plugins ./plugins
COPY examples ./examples
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --ignore-scripts

FROM node:24-slim
# V8 would otherwise grow the heap lazily under load; these keep a sidecar's RSS under 150 MB.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=8" \
    HOST=0.0.0.0 \
    PORT=8000 \
    METRICS_PORT=9464
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/plugins ./dist/plugins
COPY --from=build /app/dist/examples ./dist/examples
COPY config ./config
# The node user of the base image, numerically so that runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8000 8100 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/plugins/server.js"]
