import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { LoggerOptions } from 'pino'
import type { Core } from '../src/core.js'
import { passthroughPolicy } from '../src/passthrough.js'
import authPlugin from './auth.js'
import { drainOnClose } from './drain.js'
import errorsPlugin, { clientErrorHandler, frameworkErrorHandler } from './errors.js'
import { mappedRoutes } from './mapped-routes.js'
import { passthrough } from './passthrough.js'
import rawBodyPlugin from './raw-body.js'
import targetPlugin from './target.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Time spent in backend calls (mapped or passed through), for the access log. */
    upstreamSeconds: number | undefined
  }
}

/**
 * The Network Link listener: errors in Network Link format everywhere; every
 * request's target parsed once and matched against the current mapping set,
 * then authenticated, then answered by its mapping or passed through.
 */
export async function buildApp({ config, authenticator, upstream, metrics, mappings, validators, idempotency }: Core, logger: LoggerOptions | false): Promise<FastifyInstance> {
  const app = Fastify({
    logger,
    // One access-log line per request comes from the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.bodyLimit,
    // The query is parsed once, strictly, with the rest of the target (src/request/target.ts).
    routerOptions: { querystringParser: () => ({}) },
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
  app.decorateRequest('upstreamSeconds', undefined)
  app.addHook('onResponse', async (request, reply) => {
    const route = request.route?.template.path ?? 'unmatched'
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
  const passthroughPrefix = config.upstream.passthrough
  await app.register(async (networkLink) => {
    await networkLink.register(targetPlugin, { basePath: config.server.basePath, mappings })
    await networkLink.register(authPlugin, { authenticator })
    await networkLink.register(rawBodyPlugin, { bodyLimit: config.server.bodyLimit })
    const fallback =
      passthroughPrefix === undefined
        ? undefined
        : await passthrough(networkLink, {
            upstream,
            upstreamUrl: config.upstream.url,
            policy: passthroughPolicy({
              prefix: passthroughPrefix,
              subjectHeader: config.upstream.subjectHeader,
              forwardHeaders: config.upstream.forwardHeaders,
              forwardFbapiHeaders: config.upstream.forwardFbapiHeaders,
            }),
            validators,
            timeoutMs: config.upstream.timeoutMs,
            metrics,
          })
    await networkLink.register(mappedRoutes, {
      validators,
      responseValidation: config.openapi?.responseValidation ?? 'off',
      idempotency: { store: idempotency, waitMs: config.idempotency.lockMs },
      metrics,
      upstream,
      subjectHeader: config.upstream.subjectHeader,
      ...(fallback ? { fallback } : {}),
    })
  })
  return app
}

const round = (ms: number) => Math.round(ms * 100) / 100
