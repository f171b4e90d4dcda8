import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Credential } from '../src/credentials/credential.js'
import { ERRORS, GatewayError } from '../src/errors.js'
import { answerMapped, type PipelineOptions } from '../src/mapping/pipeline.js'
import { HTTP_METHODS } from '../src/route-table.js'
import type { Forward } from './passthrough.js'

export interface MappedRoutesOptions extends PipelineOptions {
  /** For targets the current set does not map: passthrough, or 404. */
  fallback?: Forward
}

/**
 * One catch-all route: the target plugin has already matched the request
 * against the mapping set it runs on (Fastify's router is not asked), so
 * this handler runs that route's mapping, or passes the request through.
 */
export async function mappedRoutes(app: FastifyInstance, { fallback, ...options }: MappedRoutesOptions): Promise<void> {
  app.route({ method: [...HTTP_METHODS], url: '*', exposeHeadRoute: false, handler: (request, reply) => handle(request, reply, options, fallback) })
}

async function handle(request: FastifyRequest, reply: FastifyReply, options: PipelineOptions, fallback: Forward | undefined): Promise<FastifyReply> {
  const route = request.route && request.mappingSet.routes.get(request.route.template.key)
  if (!route) {
    if (fallback) return fallback(request, reply)
    throw new GatewayError(ERRORS.routeNotFound)
  }
  const answer = await answerMapped(
    route,
    {
      method: request.method,
      target: request.target,
      params: request.route?.params ?? {},
      body: request.body as Buffer | undefined,
      headers: request.headers,
      credential: request.credential as Credential,
      requestId: request.id,
      log: request.log,
      trace: request.span?.trace,
    },
    options,
  )
  request.upstreamSeconds = answer.upstreamSeconds
  if (answer.refusal) request.refusal = answer.refusal
  return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body)
}
