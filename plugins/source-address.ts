import type { FastifyInstance } from 'fastify'
import type { SourcePolicy } from '../src/source-address.js'

/**
 * The first hook of the Network Link listener: a client outside
 * `server.allow` is refused (403) before the target or any header of its
 * request is read. The client is the peer, or, when the peer is a trusted
 * proxy, the address it forwarded for (`request.ip`: Fastify's trustProxy
 * walks X-Forwarded-For with `policy.trusts`).
 */
export function admitSources(app: FastifyInstance, policy: SourcePolicy): void {
  app.addHook('onRequest', async (request) => policy.admit(request.ip, request.socket.remoteAddress))
}
