import Fastify, { LogController, type FastifyInstance, type FastifyReply } from 'fastify'
import type { LoggerOptions } from 'pino'
import { Pool } from 'undici'
import { forwardableHeaders, hasDotSegment, isSignatureHeader, isTimeout, pathOf, relayableHeaders } from '../src/http.js'
import { matchRoute, type RouteTemplate } from '../src/route-templates.js'
import { retryable, signedHeaders } from '../src/outbound/sign.js'
import type { GatewayMetrics } from '../src/metrics.js'
import type { GatewayConfig } from '../src/config/load.js'
import { drainOnClose } from './drain.js'

export type OutboundOptions = Omit<NonNullable<GatewayConfig['outbound']>, 'host' | 'port' | 'allow'> & {
  /** When set, the only endpoints the backend may call. */
  allow?: RouteTemplate[]
  bodyLimit: number
  metrics: GatewayMetrics
  logger: LoggerOptions | false
}

const RETRY_STATUSES = new Set([502, 503, 504])

function refuse(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ message, errorType: status >= 500 ? 'internal-error' : 'bad-request' })
}

/**
 * The Exchange → Fireblocks listener: the backend sends plain HTTP requests,
 * the gateway signs them with the exchange's credential and forwards them to
 * the one configured Fireblocks origin, streaming the answer back. Nothing a
 * request carries (absolute URL, Host header, path) can send it elsewhere.
 */
export async function buildOutboundApp(options: OutboundOptions): Promise<FastifyInstance> {
  const base = new URL(options.target)
  const prefix = base.pathname.replace(/\/$/, '')
  const pool = new Pool(base.origin, { connections: 32, keepAliveTimeout: 30_000 })
  const app = Fastify({
    logger: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    routerOptions: { maxParamLength: 512 },
  })
  app.addHook('onClose', () => pool.close())
  drainOnClose(app)
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  const { outboundRequests, outboundDuration } = options.metrics

  app.all('/*', async (request, reply) => {
    const url = request.url
    // Origin-form only: an absolute URL or a network-path (//host) is a proxy request, refused.
    if (!url.startsWith('/') || url.startsWith('//')) return refuse(reply, 400, 'Only origin-form request targets (/path) are forwarded')
    const path = pathOf(url)
    if (hasDotSegment(path)) return refuse(reply, 400, 'Path must not contain "." or ".." segments')
    const allowed = options.allow ? matchRoute(options.allow, request.method, path) : undefined
    if (options.allow && !allowed) {
      outboundRequests.inc({ route: 'refused', status: '403', retry: '0' })
      return refuse(reply, 403, `${request.method} ${path} is not in the outbound allow-list`)
    }
    const route = allowed?.template ?? request.method
    const body = request.body as Buffer | undefined
    const forwarded = forwardableHeaders(request.headers, isSignatureHeader)
    const attempts = retryable(request.method, body) ? options.retries + 1 : 1
    for (let attempt = 0; ; attempt++) {
      const headers = { ...forwarded, ...signedHeaders(options.signer, options.apiKey, request.method, options.signBasePath ? prefix + url : url, body) }
      const last = attempt === attempts - 1
      const timer = outboundDuration.startTimer({ route: allowed?.template ?? request.method })
      try {
        const res = await pool.request({ method: request.method as 'GET', path: prefix + url, headers, body: body?.length ? body : null, signal: AbortSignal.timeout(options.timeoutMs) })
        timer()
        if (RETRY_STATUSES.has(res.statusCode) && !last) {
          await res.body.dump()
          outboundRequests.inc({ route, status: String(res.statusCode), retry: String(attempt) })
          await backoff(attempt)
          continue
        }
        outboundRequests.inc({ route, status: String(res.statusCode), retry: String(attempt) })
        return reply.code(res.statusCode).headers(relayableHeaders(res.headers)).send(res.body)
      } catch (err) {
        timer()
        const timedOut = isTimeout(err)
        outboundRequests.inc({ route, status: timedOut ? 'timeout' : 'error', retry: String(attempt) })
        request.log.warn({ route, attempt, err: (err as Error).message }, 'outbound call failed')
        if (last) return refuse(reply, timedOut ? 504 : 502, timedOut ? 'Fireblocks did not answer in time' : 'Fireblocks unreachable')
        await backoff(attempt)
      }
    }
  })
  return app
}

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt))
}
