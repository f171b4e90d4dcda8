import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Authenticator, Identified } from '../src/auth/authenticator.js'
import type { Credential } from '../src/credentials/credential.js'
import { verifiedSubject } from '../src/tls.js'
import { inSpan } from '../src/tracing.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the caller is identified; proven when preValidation passed. */
    identified: Identified | null
    /** The authenticated credential, once signature and nonce passed. */
    credential: Credential | null
  }
}

/**
 * Authenticates every route registered in the same context. The cheap checks
 * run in onRequest, before the body is read; the signature needs the raw body
 * and runs in preValidation, before any validation, mapping or upstream call.
 */
async function authPlugin(app: FastifyInstance, { authenticator }: { authenticator: Authenticator }): Promise<void> {
  app.decorateRequest('identified', null)
  app.decorateRequest('credential', null)
  app.addHook('onRequest', async (request) => {
    const clientSubject = () => verifiedSubject(request.socket as Parameters<typeof verifiedSubject>[0])
    request.identified = await inSpan(request.span?.trace, 'authenticate', () => authenticator.identify(request.headers, request.target.endpoint.length, clientSubject))
  })
  app.addHook('preValidation', async (request) => {
    const identified = request.identified as Identified
    await inSpan(request.span?.trace, 'verify signature', (trace) => authenticator.verify(identified, request.method, request.target, request.body as Buffer | undefined, trace))
    request.credential = identified.credential
  })
}

export default fp(authPlugin, { name: 'nlgw-auth', fastify: '5.x', dependencies: ['nlgw-target'], decorators: { request: ['target'] } })
