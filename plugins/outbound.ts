import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { LoggerOptions } from 'pino'
import { Pool } from 'undici'
import { ERRORS, GatewayError } from '../src/errors.js'
import { isTimeout, relayableHeaders } from '../src/http.js'
import type { GatewayMetrics } from '../src/metrics.js'
import { outboundPolicy, type OutboundRequest } from '../src/outbound/policy.js'
import { retryable, signedHeaders } from '../src/outbound/sign.js'
import { HTTP_METHODS, type RouteTable } from '../src/route-table.js'
import type { GatewayConfig } from '../src/config/load.js'
import { drainOnClose } from './drain.js'
import errorsPlugin, { clientErrorHandler, frameworkErrorHandler } from './errors.js'

export type OutboundOptions = Omit<NonNullable<GatewayConfig['outbound']>, 'host' | 'port' | 'allow'> & {
  /** The only endpoints the backend may call. */
  allow: RouteTable
  bodyLimit: number
  metrics: GatewayMetrics
  logger: LoggerOptions | false
}

declare module 'fastify' {
  interface FastifyRequest {
    outbound: OutboundRequest | null
  }
}

const RETRY_STATUSES = new Set([502, 503, 504])

/**
 * The Exchange → Fireblocks listener: the backend sends plain HTTP requests,
 * the gateway checks them against its policy (src/outbound/policy.ts), signs
 * them with the exchange's credential and forwards them to the one configured
 * Fireblocks origin, streaming the answer back. Nothing a request carries
 * (absolute URL, Host header, path) can send it elsewhere. undici is called
 * directly, not through reply-from: every retry must be signed anew.
 */
export async function buildOutboundApp(options: OutboundOptions): Promise<FastifyInstance> {
  const base = new URL(options.target)
  const prefix = base.pathname.replace(/\/$/, '')
  const pool = new Pool(base.origin, { connections: 32, keepAliveTimeout: 30_000 })
  const policy = outboundPolicy({ allow: options.allow, ...(options.token !== undefined ? { token: options.token } : {}) })
  const app = Fastify({
    logger: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    routerOptions: { querystringParser: () => ({}) },
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
  })
  await app.register(errorsPlugin)
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

  app.route({
    method: [...HTTP_METHODS],
    url: '*',
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const { template, target } = request.outbound as OutboundRequest
      const route = template.key
      const body = request.body as Buffer | undefined
      const forwarded = policy.headers(request.headers)
      const attempts = retryable(request.method, body) ? options.retries + 1 : 1
      for (let attempt = 0; ; attempt++) {
        const headers = { ...forwarded, ...signedHeaders(options.signer, options.apiKey, request.method, options.signBasePath ? prefix + target : target, body) }
        const last = attempt === attempts - 1
        const timer = outboundDuration.startTimer({ route })
        try {
          const res = await pool.request({ method: request.method as 'GET', path: prefix + target, headers, body: body?.length ? body : null, signal: AbortSignal.timeout(options.timeoutMs) })
          timer()
          outboundRequests.inc({ route, status: String(res.statusCode), retry: String(attempt) })
          if (RETRY_STATUSES.has(res.statusCode) && !last) {
            await res.body.dump()
            await backoff(attempt)
            continue
          }
          return reply.code(res.statusCode).headers(relayableHeaders(res.headers)).send(res.body)
        } catch (err) {
          timer()
          const timedOut = isTimeout(err)
          outboundRequests.inc({ route, status: timedOut ? 'timeout' : 'error', retry: String(attempt) })
          request.log.warn({ route, attempt, err: (err as Error).message }, 'outbound call failed')
          if (last) throw new GatewayError(timedOut ? ERRORS.outboundTimeout : ERRORS.outboundUnavailable, {}, { cause: err })
          await backoff(attempt)
        }
      }
    },
  })
  return app
}

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt))
}
