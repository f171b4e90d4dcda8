import type { FastifyInstance } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import { UpstreamError, upstreamFailure, type Upstream } from '../src/upstream.js'
import type { Credential } from '../src/credentials/credential.js'

export interface PassthroughOptions {
  upstream: Upstream
  /** Upstream path prefix replacing the Network Link base path. */
  upstreamPrefix: string
  basePath: string
  subjectHeader: string
  forwardFbapiHeaders: boolean
  timeoutMs: number
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length'])

/**
 * Forwards authenticated Network Link requests that no mapping handles to the
 * backend under a fixed prefix, for backends that already speak Network Link
 * for some routes. The identity header is always the gateway's; a client's
 * copy is dropped.
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

export async function passthroughRoutes(app: FastifyInstance, options: PassthroughOptions): Promise<void> {
  app.all('/*', async (request, reply) => {
    const credential = request.credential as Credential
    const path = options.upstreamPrefix + request.url.slice(options.basePath.length)
    try {
      const res = await options.upstream.request({
        method: request.method,
        path,
        headers: forwardHeaders(request.headers, options, credential),
        body: request.body as Buffer | undefined,
        timeoutMs: options.timeoutMs,
      })
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(name)) reply.header(name, value)
      }
      return reply.code(res.status).send(res.body)
    } catch (err) {
      throw err instanceof UpstreamError ? upstreamFailure(err) : err
    }
  })
}
