import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import fp from 'fastify-plugin'
import { ERRORS, GatewayError, toGatewayError, type ErrorSpec } from '../src/errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The catalogue entry the request was refused with, for logs and metrics. */
    refusal: ErrorSpec | null
  }
}

/** Fastify's own errors, translated into the catalogue. */
function fromFastify(err: FastifyError): GatewayError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError(ERRORS.bodyTooLarge)
    case 'FST_ERR_BAD_URL':
      return new GatewayError(ERRORS.malformedRequest, { message: 'Request URL has invalid percent-encoding' })
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new GatewayError(ERRORS.malformedRequest)
    default:
      return err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500
        ? new GatewayError(ERRORS.malformedRequest, { message: err.message })
        : undefined
  }
}

/** Marks the request with its refusal (for logs and metrics); a 5xx is logged with its cause. */
export function recordError(request: FastifyRequest, error: GatewayError): void {
  request.refusal = error.spec
  if (error.spec.status >= 500) request.log.error({ err: error.cause ?? error, reason: error.spec.reason }, error.message)
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: GatewayError): FastifyReply {
  recordError(request, error)
  return reply.code(error.spec.status).type('application/json').send(error.body)
}

/**
 * Every answer the gateway itself gives is a Network Link error body; a stack
 * trace never reaches a client. Unexpected errors are logged in full and
 * answered 500 `internal-error`.
 */
async function errorsPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest('refusal', null)
  app.setErrorHandler((err: FastifyError, request, reply) => sendError(request, reply, fromFastify(err) ?? toGatewayError(err)))
  app.setNotFoundHandler((request, reply) => sendError(request, reply, new GatewayError(ERRORS.routeNotFound)))
}

export default fp(errorsPlugin, { name: 'nlgw-errors', fastify: '5.x' })

/** For Fastify's `frameworkErrors`: URLs the router cannot decode, before any hook runs. */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendError(request, reply, fromFastify(err) ?? new GatewayError(ERRORS.malformedRequest))
}

const REASON_PHRASES: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

/** For Fastify's `clientErrorHandler`: requests Node's parser rejects or times out before routing. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return
  // Garbage pipelined behind a request received whole and still being answered: that answer goes out
  // first (its request may have moved money), then the connection closes; an error written now would
  // take its place. (A request cut off mid-body, as by requestTimeout, is not one: it gets the error.)
  const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  if (pending && !pending.writableFinished && pending.req.complete) {
    pending.shouldKeepAlive = false
    pending.once('finish', () => socket.end())
    return
  }
  const spec = err.code === 'HPE_HEADER_OVERFLOW' ? ERRORS.headersTooLarge : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? ERRORS.requestTimeout : ERRORS.malformedRequest
  const body = JSON.stringify(new GatewayError(spec).body)
  socket.end(
    `HTTP/1.1 ${spec.status} ${REASON_PHRASES[spec.status]}\r\n` +
      `Connection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}
