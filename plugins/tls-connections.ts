import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ERRORS, GatewayError } from '../src/errors.js'
import { ListenerConnections } from '../src/tls.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** A TLS listener's connections, retired by a reload that replaces the client CA. */
    tlsConnections?: ListenerConnections
  }
}

/**
 * Wires ListenerConnections into an HTTPS listener: a request on a retired
 * connection is refused before anything else reads it, and again before its
 * body is acted on (its headers may have come before the change), and every
 * answer on one ends it (`Connection: close`), including the answer of a
 * request that was in progress when the connection was retired.
 */
export function trackTlsConnections(app: FastifyInstance): void {
  const connections = new ListenerConnections(app.server as unknown as ConstructorParameters<typeof ListenerConnections>[0])
  app.decorate('tlsConnections', connections)
  const refuseRetired = (request: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    if (!connections.isRetired(request.raw.socket)) return done()
    reply.raw.shouldKeepAlive = false
    done(new GatewayError(ERRORS.retiredConnection))
  }
  app.addHook('onRequest', refuseRetired)
  // Again once the body is in: a request whose headers came before the change must not run after it.
  app.addHook('preValidation', refuseRetired)
  app.addHook('onSend', (request, reply, payload, done) => {
    if (connections.isRetired(request.raw.socket)) reply.raw.shouldKeepAlive = false
    done(null, payload)
  })
}
