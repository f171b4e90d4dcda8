import type { FastifyInstance } from 'fastify'
import { ListenerConnections } from '../src/tls.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** A TLS listener's connections, retired by a reload that replaces the client CA. */
    tlsConnections?: ListenerConnections
  }
}

/** Wires ListenerConnections into an HTTPS listener: a retired connection's answers end it (`Connection: close`). */
export function trackTlsConnections(app: FastifyInstance): void {
  const connections = new ListenerConnections(app.server as unknown as ConstructorParameters<typeof ListenerConnections>[0])
  app.decorate('tlsConnections', connections)
  // onSend, not onRequest: a request in progress when the connection was retired is answered with it.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (connections.isRetired(request.raw.socket)) reply.raw.shouldKeepAlive = false
    done(null, payload)
  })
}
