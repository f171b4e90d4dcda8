import type { FastifyInstance, FastifyRequest } from 'fastify'
import { GatewayError } from '../src/errors.js'
import { markFailed, SpanKind, startSpan, type OpenSpan, type Trace } from '../src/tracing.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's span when tracing is on: its `trace` parents every span made for the request. */
    span: OpenSpan | undefined
  }
}

/**
 * A SERVER span per request, from the first hook to the answer, named after
 * the route template once it is known. `parent` says which trace a request
 * joins: a new one for Fireblocks' calls, the backend's own for outbound ones.
 */
export function traceRequests(app: FastifyInstance, parent: (request: FastifyRequest) => Trace | undefined, route: (request: FastifyRequest) => string): void {
  app.decorateRequest('span', undefined)
  app.addHook('onRequest', async (request) => {
    request.span = startSpan(parent(request), request.method, SpanKind.SERVER)
    request.span?.span.setAttribute('http.request.method', request.method)
  })
  app.addHook('onResponse', async (request, reply) => {
    const open = request.span
    if (!open) return
    const template = route(request)
    open.span.updateName(`${request.method} ${template}`)
    open.span.setAttributes({ 'http.route': template, 'http.response.status_code': reply.statusCode })
    if (request.refusal) open.span.setAttribute('nlgw.refusal', request.refusal.reason)
    if (reply.statusCode >= 500) markFailed(open.span, request.refusal ? new GatewayError(request.refusal) : new Error(`answered ${reply.statusCode}`))
    open.end()
  })
}
