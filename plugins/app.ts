import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { LoggerOptions } from 'pino'
import type { Core } from '../src/core.js'
import { passthroughPolicy } from '../src/passthrough.js'
import { sourcePolicy } from '../src/source-address.js'
import { listenerTlsOptions } from '../src/tls.js'
import { rootTrace, traceIdOf } from '../src/tracing.js'
import authPlugin from './auth.js'
import { drainOnClose } from './drain.js'
import errorsPlugin, { clientErrorHandler, frameworkErrorHandler } from './errors.js'
import { mappedRoutes } from './mapped-routes.js'
import { passthrough } from './passthrough.js'
import { registerRateLimits } from './rate-limit.js'
import rawBodyPlugin from './raw-body.js'
import { admitSources } from './source-address.js'
import targetPlugin from './target.js'
import { trackTlsConnections } from './tls-connections.js'
import { traceRequests } from './tracing.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Time spent in backend calls (mapped or passed through), for the access log. */
    upstreamSeconds: number | undefined
  }
}

/**
 * The Network Link listener (HTTP, or HTTPS with `server.tls`): errors in
 * Network Link format everywhere; the source address admitted first
 * (`server.allow`), then every request's target parsed once and matched
 * against the current mapping set, then authenticated, then answered by its
 * mapping or passed through.
 */
export async function buildApp({ config, authenticator, upstream, metrics, mappings, validators, idempotency, redis, tracing }: Core, logger: LoggerOptions | false): Promise<FastifyInstance> {
  const { tls, allow, trustedProxies } = config.server
  const sources = sourcePolicy({ ...(allow ? { allow } : {}), ...(trustedProxies ? { trustedProxies } : {}) })
  // Node's server options; with HTTPS they travel with the TLS options (Fastify reads `http` only for plain HTTP).
  const serverOptions = {
    headersTimeout: Math.min(config.server.headersTimeoutMs, config.server.requestTimeoutMs),
    connectionsCheckingInterval: Math.max(100, Math.min(1000, config.server.headersTimeoutMs / 2)),
  }
  const app = Fastify({
    ...(tls ? { https: { ...listenerTlsOptions(tls), ...serverOptions } } : { http: serverOptions }),
    // X-Forwarded-For is read only when the peer is a trusted proxy; request.ip is then the client it names.
    ...(trustedProxies ? { trustProxy: (address: string) => sources.trusts(address) } : {}),
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
  }) as unknown as FastifyInstance
  await app.register(errorsPlugin)
  drainOnClose(app)
  if (tls) trackTlsConnections(app)
  // The first hooks, in this order: source address, the request's span, the budget of refused requests.
  if (allow) admitSources(app, sources)
  if (tracing) traceRequests(app, () => rootTrace(tracing), (request) => request.route?.template.path ?? 'unmatched')
  const limits = config.rateLimit ? await registerRateLimits(app, { limits: config.rateLimit, redis, metrics }) : {}
  app.decorateRequest('upstreamSeconds', undefined)
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.route?.template.path ?? 'unmatched'
    const key = request.identified?.credential.id
    const status = reply.statusCode
    const elapsed = reply.elapsedTime
    metrics.requests.inc({ route, method: request.method, status })
    metrics.requestDuration.observe({ route, method: request.method }, elapsed / 1000)
    if (request.refusal) metrics.countError(request.refusal, key)
    // The access log: one line per request; never a secret, a signature or an API key.
    const line: AccessLine = { method: request.method, route, status, ms: round(elapsed) }
    if (request.upstreamSeconds !== undefined) line.upstreamMs = round(request.upstreamSeconds * 1000)
    if (key) line.key = key
    if (request.refusal) line.reason = request.refusal.reason
    if (request.span) line.traceId = traceIdOf(request.span.trace)
    request.log.info(line, 'request')
    done()
  })
  const passthroughPrefix = config.upstream.passthrough
  await app.register(async (networkLink) => {
    await networkLink.register(targetPlugin, { basePath: config.server.basePath, mappings })
    await networkLink.register(authPlugin, { authenticator })
    // After the signature and nonce: only a proven request spends its key's budget.
    if (limits.proven) networkLink.addHook('preValidation', limits.proven)
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

interface AccessLine {
  method: string
  route: string
  status: number
  ms: number
  upstreamMs?: number
  key?: string
  reason?: string
  traceId?: string
}
