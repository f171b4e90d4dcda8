import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { LoggerOptions } from 'pino'
import authPlugin from '../plugins/auth.js'
import errorsPlugin, { clientErrorHandler, frameworkErrorHandler } from '../plugins/errors.js'
import { mappedRoutes } from '../plugins/mapped-routes.js'
import { createForward, passthroughRoutes } from '../plugins/passthrough.js'
import rawBodyPlugin from '../plugins/raw-body.js'
import type { Authenticator } from './auth/authenticator.js'
import type { GatewayConfig } from './config/load.js'
import type { MappingSet } from './mapping/load.js'
import type { OperationValidators } from './openapi/validators.js'
import type { IdempotencyStore } from './idempotency/store.js'
import type { GatewayMetrics } from './metrics.js'
import type { Upstream } from './upstream.js'
import { drainOnClose } from '../plugins/drain.js'

export interface AppDeps {
  config: GatewayConfig
  authenticator: Authenticator
  upstream: Upstream
  metrics: GatewayMetrics
  logger: LoggerOptions | false
  mappings: { readonly current: MappingSet }
  /** Routes to register: every Network Link route when the OpenAPI document is loaded, else the mapped ones. */
  routeKeys: Iterable<string>
  /** OpenAPI validators by route key (empty without the document). */
  validators: ReadonlyMap<string, OperationValidators>
  idempotency: IdempotencyStore
}


/**
 * The Network Link listener: errors in Network Link format everywhere, and
 * under the base path an authenticated context into which the route plugins
 * (mapped routes, passthrough) are registered.
 */
export async function buildApp({ config, authenticator, upstream, metrics, logger, mappings, routeKeys, validators, idempotency }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger,
    // One access-log line per request comes from the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.bodyLimit,
    // Collateral ids are three UUIDs joined by dots (110 characters).
    routerOptions: { maxParamLength: 512 },
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
    // Slow clients (slowloris) are cut off: headers and whole requests have deadlines, checked often.
    requestTimeout: config.server.requestTimeoutMs,
    http: {
      headersTimeout: Math.min(config.server.headersTimeoutMs, config.server.requestTimeoutMs),
      connectionsCheckingInterval: Math.max(100, Math.min(1000, config.server.headersTimeoutMs / 2)),
    },
  })
  await app.register(errorsPlugin)
  drainOnClose(app)
  const routeOf = routeLabels(config.server.basePath)
  app.addHook('onResponse', async (request, reply) => {
    const route = routeOf(request.routeOptions.url)
    const key = request.identified?.credential.id
    const status = reply.statusCode
    metrics.requests.inc({ route, method: request.method, status })
    metrics.requestDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000)
    if (request.refusal) metrics.countError(request.refusal, key)
    // The access log: one line per request; never a secret, a signature or an API key.
    request.log.info(
      {
        method: request.method,
        route,
        status,
        ms: round(reply.elapsedTime),
        ...(request.upstreamSeconds !== undefined ? { upstreamMs: round(request.upstreamSeconds * 1000) } : {}),
        ...(key ? { key } : {}),
        ...(request.refusal ? { reason: request.refusal.reason } : {}),
      },
      'request',
    )
  })
  await app.register(
    async (networkLink) => {
      await networkLink.register(rawBodyPlugin)
      await networkLink.register(authPlugin, { authenticator, basePath: config.server.basePath })
      const forward =
        config.upstream.passthrough === undefined
          ? undefined
          : createForward({
              upstream,
              upstreamPrefix: config.upstream.passthrough,
              basePath: config.server.basePath,
              subjectHeader: config.upstream.subjectHeader,
              forwardFbapiHeaders: config.upstream.forwardFbapiHeaders,
              timeoutMs: config.upstream.timeoutMs,
              metrics,
            })
      await networkLink.register(mappedRoutes, {
        mappings,
        routeKeys,
        validators,
        responseValidation: config.openapi?.responseValidation ?? 'off',
        idempotency: { store: idempotency, waitMs: config.idempotency.lockMs },
        metrics,
        execute: { upstream, subjectHeader: config.upstream.subjectHeader },
        ...(forward ? { fallback: forward } : {}),
      })
      if (forward) await networkLink.register(passthroughRoutes, { forward })
    },
    { prefix: config.server.basePath },
  )
  return app
}

const round = (ms: number) => Math.round(ms * 100) / 100

/** Fastify's route url (`/v2/accounts/:accountId`) as a Network Link template (`/accounts/{accountId}`): a bounded label. */
function routeLabels(basePath: string): (url: string | undefined) => string {
  const cache = new Map<string, string>()
  return (url) => {
    if (url === undefined) return 'unmatched'
    let label = cache.get(url)
    if (label === undefined) {
      label = url.slice(url.startsWith(basePath) ? basePath.length : 0).replace(/:(\w+)/g, '{$1}') || '/'
      cache.set(url, label)
    }
    return label
  }
}
