import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import type { Credential } from '../src/credentials/credential.js'
import type { GatewayMetrics } from '../src/metrics.js'
import { UpstreamError, upstreamFailure, type Upstream } from '../src/upstream.js'

export interface PassthroughOptions {
  upstream: Upstream
  /** Upstream path prefix replacing the Network Link base path. */
  upstreamPrefix: string
  basePath: string
  subjectHeader: string
  forwardFbapiHeaders: boolean
  timeoutMs: number
  metrics: GatewayMetrics
}

export type Forward = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length'])

/**
 * The identity header is always the gateway's (a client's copy is dropped);
 * X-FBAPI headers stay behind unless configured.
 */
export function forwardHeaders(headers: IncomingHttpHeaders, options: PassthroughOptions, credential: Credential): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || name === options.subjectHeader) continue
    if (!options.forwardFbapiHeaders && (name.startsWith('x-fbapi-') || name.startsWith('x-fb-platform-'))) continue
    out[name] = Array.isArray(value) ? value.join(', ') : value
  }
  out[options.subjectHeader] = credential.subject
  return out
}

/**
 * Forwards an authenticated Network Link request no mapping handles to the
 * backend, path and query as received, under a fixed prefix: for backends
 * that already speak Network Link for some routes.
 */
export function createForward(options: PassthroughOptions): Forward {
  return async (request, reply) => {
    const credential = request.credential as Credential
    const started = performance.now()
    const observe = (status: string) => {
      const seconds = (performance.now() - started) / 1000
      options.metrics.upstreamDuration.observe({ route: 'passthrough', status }, seconds)
      request.upstreamSeconds = (request.upstreamSeconds ?? 0) + seconds
    }
    try {
      const res = await options.upstream.request({
        method: request.method,
        path: options.upstreamPrefix + request.url.slice(options.basePath.length),
        headers: forwardHeaders(request.headers, options, credential),
        body: request.body as Buffer | undefined,
        timeoutMs: options.timeoutMs,
      })
      observe(String(res.status))
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value)
      }
      return reply.code(res.status).send(res.body)
    } catch (err) {
      observe(err instanceof UpstreamError ? err.kind : 'error')
      throw err instanceof UpstreamError ? upstreamFailure(err) : err
    }
  }
}

/** Every path no other route takes. */
export async function passthroughRoutes(app: FastifyInstance, { forward }: { forward: Forward }): Promise<void> {
  app.all('/*', forward)
}
