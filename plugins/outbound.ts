import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { LoggerOptions } from 'pino'
import { relayableHeaders } from '../src/http.js'
import type { GatewayMetrics } from '../src/metrics.js'
import { outboundPolicy, type OutboundRequest } from '../src/outbound/policy.js'
import { forwardSigned, type Forwarder } from '../src/outbound/forward.js'
import { HTTP_METHODS, type RouteTable } from '../src/route-table.js'
import type { Signer } from '../src/signing/index.js'
import type { GatewayConfig } from '../src/config/load.js'
import { listenerTlsOptions, type ReloadablePool } from '../src/tls.js'
import { continuedTrace, type Tracing } from '../src/tracing.js'
import { drainOnClose } from './drain.js'
import { trackTlsConnections } from './tls-connections.js'
import errorsPlugin, { clientErrorHandler, frameworkErrorHandler } from './errors.js'
import { traceRequests } from './tracing.js'

export type OutboundOptions = Omit<NonNullable<GatewayConfig['outbound']>, 'host' | 'port' | 'allow' | 'key' | 'targetTls'> & {
  /** The only endpoints the backend may call. */
  allow: RouteTable
  signer: Signer
  bodyLimit: number
  metrics: GatewayMetrics
  logger: LoggerOptions | false
  /** Connections to Fireblocks' origin with `outbound.targetTls`; a reload replaces its certificates. */
  fireblocks: ReloadablePool
  tracing?: Tracing | undefined
}

declare module 'fastify' {
  interface FastifyRequest {
    outbound: OutboundRequest | null
  }
}

/**
 * The Exchange → Fireblocks listener (HTTPS with `outbound.tls`, where a
 * required client certificate authenticates the backend): the backend sends plain requests,
 * the gateway admits them by its policy (src/outbound/policy.ts), signs and
 * forwards them with retries (src/outbound/forward.ts) to the one configured
 * Fireblocks origin, and streams the answer back. Nothing a request carries
 * (absolute URL, Host header, path) can send it elsewhere.
 */
export async function buildOutboundApp(options: OutboundOptions): Promise<FastifyInstance> {
  const base = new URL(options.target)
  const prefix = base.pathname.replace(/\/$/, '')
  const pool = options.fireblocks
  const policy = outboundPolicy({ allow: options.allow, ...(options.token !== undefined ? { token: options.token } : {}) })
  const app = Fastify({
    ...(options.tls ? { https: listenerTlsOptions(options.tls) } : {}),
    logger: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    routerOptions: { querystringParser: () => ({}) },
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
  }) as unknown as FastifyInstance
  await app.register(errorsPlugin)
  if (options.tls) trackTlsConnections(app)
  // The backend is the exchange's own: its trace goes on through the gateway to Fireblocks.
  if (options.tracing) traceRequests(app, (request) => continuedTrace(options.tracing, request.headers), (request) => request.outbound?.template.path ?? 'refused')
  app.addHook('onClose', () => pool.close())
  drainOnClose(app)
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  const { outboundRequests, outboundDuration } = options.metrics
  app.decorateRequest('outbound', null)
  // Before the body is read, for every method (the 404 handler's requests too).
  app.addHook('onRequest', async (request) => {
    request.outbound = policy.admit(request.method, request.url, request.headers)
  })
  app.addHook('onResponse', async (request, reply) => {
    if (!request.refusal) return
    options.metrics.countError(request.refusal)
    if (!request.outbound) outboundRequests.inc({ route: 'refused', status: String(reply.statusCode), retry: '0' })
  })

  const forwarder: Forwarder = { pool, prefix, signBasePath: options.signBasePath, signer: options.signer, apiKey: options.apiKey, retries: options.retries, timeoutMs: options.timeoutMs }
  app.route({
    method: [...HTTP_METHODS],
    url: '*',
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const { template, target } = request.outbound as OutboundRequest
      const route = template.key
      const res = await forwardSigned(
        {
          ...forwarder,
          onAttempt: ({ status, retry, seconds, error }) => {
            outboundRequests.inc({ route, status, retry: String(retry) })
            outboundDuration.observe({ route }, seconds)
            if (error) request.log.warn({ route, attempt: retry, err: error.message }, 'outbound call failed')
          },
        },
        { method: request.method, target, headers: policy.headers(request.headers), body: request.body as Buffer | undefined, trace: request.span?.trace },
      )
      return reply.code(res.statusCode).headers(relayableHeaders(res.headers)).send(res.body)
    },
  })
  return app
}
