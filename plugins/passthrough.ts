import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import replyFrom from '@fastify/reply-from'
import type { Credential } from '../src/credentials/credential.js'
import { ERRORS, GatewayError } from '../src/errors.js'
import { relayableHeaders } from '../src/http.js'
import type { GatewayMetrics } from '../src/metrics.js'
import type { OperationValidators } from '../src/openapi/validators.js'
import { admitPassthrough, type PassthroughPolicy } from '../src/passthrough.js'
import { scopesAnswer, withinScope } from '../src/request/scope.js'
import { injectTraceparent, SpanKind, startSpan } from '../src/tracing.js'
import type { Upstream } from '../src/upstream.js'

export interface PassthroughPluginOptions {
  upstream: Upstream
  upstreamUrl: string
  policy: PassthroughPolicy
  /** OpenAPI validators by route key (empty without the document). */
  validators: ReadonlyMap<string, OperationValidators>
  timeoutMs: number
  metrics: GatewayMetrics
}

export type Forward = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>

/**
 * Forwards authenticated Network Link requests no mapping handles to the
 * backend, through @fastify/reply-from over the same connection pool as the
 * mapped routes; the answer streams back without being parsed, except for a
 * scoped credential's account list, which is cut down to its accounts.
 * Mapped routes call undici directly instead: they must read the answer whole.
 */
export async function passthrough(app: FastifyInstance, options: PassthroughPluginOptions): Promise<Forward> {
  await app.register(replyFrom, { base: options.upstreamUrl, undici: options.upstream.pool as never, disableRequestLogging: true })
  const { policy, metrics, timeoutMs } = options
  return async (request, reply) => {
    const credential = request.credential as Credential
    const started = performance.now()
    const observe = (status: string) => {
      const seconds = (performance.now() - started) / 1000
      metrics.upstreamDuration.observe({ route: 'passthrough', status }, seconds)
      request.upstreamSeconds = (request.upstreamSeconds ?? 0) + seconds
    }
    const body = request.body as Buffer | undefined
    const routeKey = request.route?.template.key ?? ''
    admitPassthrough(routeKey, request.route?.params ?? {}, request.target, body, credential, options.validators.get(routeKey))
    const scoped = scopesAnswer(routeKey, credential)
    const span = startSpan(request.span?.trace, 'backend passthrough', SpanKind.CLIENT)
    span?.span.setAttribute('http.request.method', request.method)
    return reply.from(policy.upstreamPath(request.target), {
      // The query apart from the path: reply-from would decode it with the path and refuse "../" in it.
      queryString: () => request.target.rawQuery,
      // The exact bytes received, never re-serialised; no body at all for an empty one.
      body: body?.length ? body : null,
      // JSON, as admitted: the client's own Content-Type (form data, say) could make the backend read the bytes otherwise.
      ...(body?.length ? { contentType: 'application/json' } : {}),
      // The framing is reply-from's (the body's length, application/json): never the client's.
      rewriteRequestHeaders: (_request, computed) => {
        const headers = {
          ...policy.headers(request.headers, credential.subject),
          ...(computed['content-length'] !== undefined ? { 'content-length': computed['content-length'] } : {}),
          ...(computed['content-type'] !== undefined ? { 'content-type': computed['content-type'] } : {}),
        }
        injectTraceparent(span?.trace, headers)
        return headers
      },
      rewriteHeaders: (headers) => relayableHeaders(headers),
      // Never retried: a passthrough may move money; the client retries with its idempotency key.
      retryDelay: () => null,
      timeout: timeoutMs,
      onResponse: (_request, reply, res) => {
        observe(String(res.statusCode))
        span?.span.setAttribute('http.response.status_code', res.statusCode)
        span?.end()
        if (!scoped || res.statusCode !== 200) return reply.send(res.stream)
        void filtered(res.stream, routeKey, credential).then(
          (json) => reply.removeHeader('content-length').type('application/json; charset=utf-8').send(json),
          (err: unknown) => reply.send(new GatewayError(ERRORS.upstreamNotJson, {}, { cause: err })),
        )
      },
      onError: (reply, { error }) => {
        const timedOut = (error as { statusCode?: number }).statusCode === 504
        observe(timedOut ? 'timeout' : 'unavailable')
        span?.end(error)
        reply.send(new GatewayError(timedOut ? ERRORS.upstreamTimeout : ERRORS.upstreamUnavailable, {}, { cause: error }))
      },
    })
  }
}

async function filtered(stream: NodeJS.ReadableStream, routeKey: string, credential: Credential): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return JSON.stringify(withinScope(routeKey, JSON.parse(Buffer.concat(chunks).toString('utf8')), credential))
}
