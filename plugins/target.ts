import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ERRORS, GatewayError } from '../src/errors.js'
import type { MappingSet } from '../src/mapping/load.js'
import type { RouteMatch } from '../src/route-table.js'
import { parseTarget, type RequestTarget } from '../src/request/target.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The canonical request target: the only source of route, scope and upstream path. */
    target: RequestTarget
    /** The mapping set this request runs on, taken once: a reload never changes a request half-way. */
    mappingSet: MappingSet
    /** The Network Link route template the target matches (anything else is a 404 in the first hook). */
    route: RouteMatch | undefined
  }
}

export interface TargetPluginOptions {
  basePath: string
  mappings: { readonly current: MappingSet }
}

/**
 * The first hook of every Network Link request: parse the target once, into
 * the canonical value every later decision reads, and find its route there,
 * not in Fastify's router (which decodes escapes and accepts absolute-form
 * targets: every request reaches one catch-all route).
 */
async function targetPlugin(app: FastifyInstance, { basePath, mappings }: TargetPluginOptions): Promise<void> {
  app.decorateRequest('target', null as unknown as RequestTarget)
  app.decorateRequest('mappingSet', null as unknown as MappingSet)
  app.decorateRequest('route', undefined)
  // Synchronous (a throw is the hook's error): no promise and no microtask per request.
  app.addHook('onRequest', (request, _reply, done) => {
    request.target = parseTarget(request.url, basePath)
    request.mappingSet = mappings.current
    request.route = request.mappingSet.table.match(request.method, request.target.segments)
    // Mapped or passed through, only a Network Link route goes on (src/network-link-routes.ts says why).
    if (request.route === undefined) throw new GatewayError(ERRORS.routeNotFound)
    done()
  })
}

export default fp(targetPlugin, { name: 'nlgw-target', fastify: '5.x' })
