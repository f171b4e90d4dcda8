import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Credential } from '../src/credentials/credential.js'
import { ERRORS, GatewayError } from '../src/errors.js'
import { fingerprint, runOnce } from '../src/idempotency/guard.js'
import type { IdempotencyStore, StoredResponse } from '../src/idempotency/store.js'
import { executeRoute, type ExecuteOptions, type RouteRequest } from '../src/mapping/execute.js'
import type { MappingSet } from '../src/mapping/load.js'
import { checkCursors, paginate, type PageQuery } from '../src/mapping/paginate.js'
import type { CompiledCall, CompiledRoute } from '../src/mapping/route.js'
import { MappingError } from '../src/mapping/template.js'
import type { GatewayMetrics } from '../src/metrics.js'
import { StoreUnavailableError } from '../src/nonce/store.js'
import type { OperationValidators } from '../src/openapi/validators.js'
import { pathOf } from '../src/http.js'
import { recordError } from './errors.js'
import type { Forward } from './passthrough.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Time spent in backend calls, for the access log. */
    upstreamSeconds?: number
  }
}

export interface MappedRoutesOptions {
  /** The current mapping set; replaced whole on reload, read once per request. */
  mappings: { readonly current: MappingSet }
  /** Routes to register (`METHOD /path/{param}`): mapped now, or mappable after a reload. */
  routeKeys: Iterable<string>
  /** OpenAPI validators by route key; empty without the document. */
  validators: ReadonlyMap<string, OperationValidators>
  /** `report` logs and counts responses that break the spec; `enforce` also answers 502. */
  responseValidation: 'off' | 'report' | 'enforce'
  idempotency: { store: IdempotencyStore; waitMs: number }
  metrics: GatewayMetrics
  execute: Omit<ExecuteOptions, 'onMappingError'>
  /** For registered routes the current set does not map: passthrough, or 404. */
  fallback?: Forward
}

/**
 * Registers Network Link routes whose handlers run the current mapping:
 * OpenAPI validation → idempotency → the mapping's calls → pagination →
 * response validation. A request keeps the mapping set it started with, so a
 * reload never changes a request half-way.
 */
export async function mappedRoutes(app: FastifyInstance, options: MappedRoutesOptions): Promise<void> {
  for (const key of options.routeKeys) {
    const [method, path] = key.split(' ') as [string, string]
    app.route({ method, url: path.replace(/\{(\w+)\}/g, ':$1'), handler: (request, reply) => handle(key, request, reply, options) })
  }
}

const IDEMPOTENCY_KEY_MAX = 256

async function handle(key: string, request: FastifyRequest, reply: FastifyReply, options: MappedRoutesOptions): Promise<FastifyReply> {
  const route = options.mappings.current.routes.get(key)
  if (!route) {
    if (options.fallback) return options.fallback(request, reply)
    throw new GatewayError(ERRORS.routeNotFound)
  }
  const body = parseBody(request.body as Buffer | undefined)
  if (route.paginate) checkCursors(request.query as PageQuery)
  const validators = options.validators.get(key)
  try {
    validators?.request(request.params, request.query, body)
  } catch (err) {
    // Something that does not exist is reported as such whatever the request carries.
    if (err instanceof GatewayError && route.exists) await confirmExists(route, route.exists, request, options)
    throw err
  }

  const idempotencyKey = route.idempotency && request.method !== 'GET' ? (body as Record<string, unknown> | undefined)?.idempotencyKey : undefined
  let response: StoredResponse
  if (typeof idempotencyKey === 'string') {
    if (idempotencyKey.length > IDEMPOTENCY_KEY_MAX) throw new GatewayError(ERRORS.requestInvalid, { message: `idempotencyKey is longer than ${IDEMPOTENCY_KEY_MAX} characters`, propertyName: '/idempotencyKey', requestPart: 'body' })
    const credential = request.credential as Credential
    const outcome = await storeGuard(() =>
      // Scoped by credential and target (route and account): the same key on another endpoint is another request.
      runOnce(options.idempotency.store, `${credential.id}:${request.method} ${pathOf(request.url)}:${idempotencyKey}`, fingerprint(request.method, request.url, body), options.idempotency.waitMs, () =>
        respond(key, route, request, body, validators, options),
      ),
    )
    if (outcome.replayed) options.metrics.idempotentReplays.inc({ route: key })
    response = outcome
  } else {
    response = await respond(key, route, request, body, validators, options)
  }
  return reply.code(response.status).type('application/json; charset=utf-8').send(response.body)
}

/** The Network Link request as mappings see it. */
function routeRequest(request: FastifyRequest, body: unknown): RouteRequest {
  const credential = request.credential as Credential
  return {
    params: request.params as Record<string, string>,
    query: request.query as Record<string, unknown>,
    body,
    headers: request.headers,
    subject: credential.subject,
    credential: credential.id,
    requestId: request.id,
  }
}

/**
 * For a request that breaks the schema: runs the route's `exists` call and throws its translated
 * error when the backend says the path names nothing (a 4xx). Any other outcome leaves the 400.
 */
async function confirmExists(route: CompiledRoute, exists: CompiledCall, request: FastifyRequest, options: MappedRoutesOptions): Promise<void> {
  const check: CompiledRoute = { ...route, calls: [exists], response: () => undefined, status: () => 200 }
  const key = `${route.method} ${route.path}`
  const onMappingError = (r: CompiledRoute, err: Error) => request.log.error({ route: key, mapping: r.source, err: err.message }, 'mapping error (exists)')
  const onUpstream = (status: string, seconds: number) => options.metrics.upstreamDuration.observe({ route: key, status }, seconds)
  try {
    await executeRoute(check, routeRequest(request, undefined), { ...options.execute, onMappingError, onUpstream })
  } catch (err) {
    if (err instanceof GatewayError && err.spec.status >= 400 && err.spec.status < 500) throw err
  }
}

/** The whole answer for one execution, errors included, as it would be stored for retries. */
async function respond(
  key: string,
  route: CompiledRoute,
  request: FastifyRequest,
  body: unknown,
  validators: OperationValidators | undefined,
  options: MappedRoutesOptions,
): Promise<StoredResponse> {
  const onMappingError = (r: CompiledRoute, err: Error) => request.log.error({ route: key, mapping: r.source, err: err.message }, 'mapping error')
  const onUpstream = (status: string, seconds: number) => {
    options.metrics.upstreamDuration.observe({ route: key, status }, seconds)
    request.upstreamSeconds = (request.upstreamSeconds ?? 0) + seconds
  }
  try {
    const result = await executeRoute(route, routeRequest(request, body), { ...options.execute, onMappingError, onUpstream })
    let payload = result.body
    if (route.paginate) payload = paginate(payload, route.paginate, request.query as PageQuery, `${route.source} paginate`)
    if (options.responseValidation !== 'off' && validators?.response) {
      const problem = validators.response(payload)
      if (problem) {
        options.metrics.responseInvalid.inc({ route: key })
        request.log.error({ route: key, mapping: route.source, path: problem.instancePath || '/', problem: problem.message, params: problem.params }, 'mapped response breaks the OpenAPI schema')
        if (options.responseValidation === 'enforce') throw new GatewayError(ERRORS.responseInvalid)
      }
    }
    return { status: result.status, body: payload === undefined ? '' : JSON.stringify(payload) }
  } catch (err) {
    if (!(err instanceof GatewayError) && !(err instanceof MappingError)) throw err
    if (err instanceof MappingError) onMappingError(route, err)
    const refusal = err instanceof GatewayError ? err : new GatewayError(ERRORS.mappingFailed, {}, { cause: err })
    recordError(request, refusal)
    return { status: refusal.spec.status, body: JSON.stringify(refusal.body) }
  }
}

async function storeGuard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw new GatewayError(ERRORS.storeUnavailable, {}, { cause: err })
    throw err
  }
}

function parseBody(raw: Buffer | undefined): unknown {
  if (raw === undefined || raw.length === 0) return undefined
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch {
    throw new GatewayError(ERRORS.invalidJson)
  }
}
