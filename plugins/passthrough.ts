import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Credential } from '../src/credentials/credential.js'
import type { GatewayMetrics } from '../src/metrics.js'
import { forwardableHeaders, isSignatureHeader, relayableHeaders } from '../src/http.js'
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

/**
 * Forwards an authenticated Network Link request no mapping handles to the
 * backend, path and query as received, under a fixed prefix: for backends
 * that already speak Network Link for some routes.
 */
export function createForward(options: PassthroughOptions): Forward {
  // The identity header is always the gateway's (a client's copy is dropped); X-FBAPI headers stay behind unless configured.
  const dropped = (name: string) => name === options.subjectHeader || (!options.forwardFbapiHeaders && isSignatureHeader(name))
  return async (request, reply) => {
    const headers = forwardableHeaders(request.headers, dropped)
    headers[options.subjectHeader] = (request.credential as Credential).subject
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
        headers,
        body: request.body as Buffer | undefined,
        timeoutMs: options.timeoutMs,
      })
      observe(String(res.status))
      return reply.code(res.status).headers(relayableHeaders(res.headers)).send(res.body)
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
