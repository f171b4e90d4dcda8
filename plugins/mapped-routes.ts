import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Credential } from '../src/credentials/credential.js'
import { ERRORS, GatewayError } from '../src/errors.js'
import { executeRoute, type ExecuteOptions } from '../src/mapping/execute.js'
import type { MappingSet } from '../src/mapping/load.js'
import type { Forward } from './passthrough.js'

export interface MappedRoutesOptions {
  /** The current mapping set; replaced whole on reload, read once per request. */
  mappings: { readonly current: MappingSet }
  /** Routes to register (`METHOD /path/{param}`): mapped now, or mappable after a reload. */
  routeKeys: Iterable<string>
  execute: Omit<ExecuteOptions, 'onMappingError'>
  /** For registered routes the current set does not map: passthrough, or 404. */
  fallback?: Forward
}

/**
 * Registers Network Link routes whose handlers run the current mapping. A
 * request keeps the mapping set it started with, so a reload never changes a
 * request half-way.
 */
export async function mappedRoutes(app: FastifyInstance, options: MappedRoutesOptions): Promise<void> {
  for (const key of options.routeKeys) {
    const [method, path] = key.split(' ') as [string, string]
    app.route({ method, url: path.replace(/\{(\w+)\}/g, ':$1'), handler: (request, reply) => handle(key, request, reply, options) })
  }
}

async function handle(key: string, request: FastifyRequest, reply: FastifyReply, options: MappedRoutesOptions): Promise<FastifyReply> {
  const route = options.mappings.current.routes.get(key)
  if (!route) {
    if (options.fallback) return options.fallback(request, reply)
    throw new GatewayError(ERRORS.routeNotFound)
  }
  const credential = request.credential as Credential
  const result = await executeRoute(
    route,
    {
      params: request.params as Record<string, string>,
      query: request.query as Record<string, unknown>,
      body: parseBody(request.body as Buffer | undefined),
      headers: request.headers,
      subject: credential.subject,
      credential: credential.id,
      requestId: request.id,
    },
    { ...options.execute, onMappingError: (r, err) => request.log.error({ route: key, mapping: r.source, err: err.message }, 'mapping error') },
  )
  reply.code(result.status)
  return result.body === undefined ? reply.send() : reply.send(result.body)
}

function parseBody(raw: Buffer | undefined): unknown {
  if (raw === undefined || raw.length === 0) return undefined
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch {
    throw new GatewayError(ERRORS.invalidJson)
  }
}
