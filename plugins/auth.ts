import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Authenticator, Identified } from '../src/auth/authenticator.js'
import type { Credential } from '../src/credentials/credential.js'
import { ERRORS, GatewayError } from '../src/errors.js'
import { hasDotSegment, pathOf } from '../src/http.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the caller is identified; proven when preValidation passed. */
    identified?: Identified
    /** The authenticated credential, once signature and nonce passed. */
    credential?: Credential
  }
}

export interface AuthPluginOptions {
  authenticator: Authenticator
  /** The Network Link base path (e.g. `/v2`), stripped from the signed endpoint. */
  basePath: string
}

/**
 * Authenticates every route registered in the same context. The cheap checks
 * run in onRequest, before the body is read; the signature needs the raw body
 * and runs in preValidation, before any validation, mapping or upstream call.
 */
async function authPlugin(app: FastifyInstance, { authenticator, basePath }: AuthPluginOptions): Promise<void> {
  app.addHook('onRequest', async (request) => {
    if (hasDotSegment(pathOf(request.url))) throw new GatewayError(ERRORS.dotSegment)
    request.identified = await authenticator.identify(request.headers)
  })
  app.addHook('preValidation', async (request) => {
    const identified = request.identified as Identified
    const endpoint = request.url.slice(basePath.length)
    await authenticator.verify(identified, request.method, endpoint, request.body as Buffer | undefined, accountIdOf(endpoint))
    request.credential = identified.credential
  })
}

/** Every Network Link route that names an account starts with /accounts/{accountId}. */
const ACCOUNT = /^\/accounts\/([^/?]+)/

function accountIdOf(endpoint: string): string | undefined {
  const segment = ACCOUNT.exec(endpoint)?.[1]
  if (segment === undefined) return undefined
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment // not valid percent-encoding: matches no configured id
  }
}

export type AuthenticatedRequest = FastifyRequest & { credential: Credential }

export default fp(authPlugin, { name: 'nlgw-auth' })
