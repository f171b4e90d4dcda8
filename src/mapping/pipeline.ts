/**
 * One authenticated request on a mapped route, start to finish, without a
 * socket: body parsed → pagination query checked → OpenAPI validation (an
 * unknown account still answers 404: `exists`) → idempotency → the mapping's
 * calls → account scope on the account list → pagination → response
 * validation. Returns the answer exactly as it is sent and stored for retries.
 */
import type { Credential } from '../credentials/credential.js'
import { ERRORS, GatewayError, toGatewayError, type ErrorSpec } from '../errors.js'
import { fingerprint, runOnce } from '../idempotency/guard.js'
import type { IdempotencyStore, StoredResponse } from '../idempotency/store.js'
import type { GatewayMetrics } from '../metrics.js'
import type { OperationValidators } from '../openapi/validators.js'
import { parseJsonBody } from '../request/body.js'
import { ACCOUNT_LIST_ROUTE, withinScope } from '../request/scope.js'
import type { RequestTarget } from '../request/target.js'
import { inSpan, type Trace } from '../tracing.js'
import type { UpstreamClient } from '../upstream.js'
import { executeRoute, type RouteRequest } from './execute.js'
import { checkCursors, paginate, type PageQuery } from './paginate.js'
import type { CompiledCall, CompiledRoute } from './route.js'

/** What the pipeline logs: a pino logger fits. */
export interface Log {
  error(fields: object, message: string): void
}

export interface PipelineOptions {
  /** OpenAPI validators by route key; empty without the document. */
  validators: ReadonlyMap<string, OperationValidators>
  /** `report` logs and counts responses that break the spec; `enforce` also answers 502. */
  responseValidation: 'off' | 'report' | 'enforce'
  idempotency: { store: IdempotencyStore; waitMs: number }
  metrics: GatewayMetrics
  upstream: UpstreamClient
  subjectHeader: string
}

export interface MappedRequest {
  method: string
  target: RequestTarget
  /** Decoded path parameters of the matched template. */
  params: Record<string, string>
  /** The body as received. */
  body: Buffer | undefined
  headers: Record<string, unknown>
  credential: Credential
  requestId: string
  log: Log
  /** The request's span, when tracing is on. */
  trace?: Trace | undefined
}

export interface MappedAnswer extends StoredResponse {
  /** Answered from the idempotency store. */
  replayed: boolean
  /** The catalogue entry an error answer was made from, for metrics and the access log. */
  refusal?: ErrorSpec
  /** Time spent in backend calls. */
  upstreamSeconds: number
}

const IDEMPOTENCY_KEY_MAX = 256

export async function answerMapped(route: CompiledRoute, request: MappedRequest, options: PipelineOptions): Promise<MappedAnswer> {
  const key = `${route.method} ${route.path}`
  const body = parseJsonBody(request.body)
  const params = { ...request.params }
  const query: Record<string, unknown> = { ...request.target.query }
  const validators = options.validators.get(key)
  if (route.paginate || validators?.operation.queryNames.includes('startingAfter')) checkCursors(query as PageQuery)
  const state = { upstreamSeconds: 0 }
  const routeRequest: RouteRequest = { params, query, body, headers: request.headers, subject: request.credential.subject, credential: request.credential.id, requestId: request.requestId }
  const onUpstream = (status: string, seconds: number) => {
    options.metrics.upstreamDuration.observe({ route: key, status }, seconds)
    state.upstreamSeconds += seconds
  }
  const onMappingError = (r: CompiledRoute, err: Error) => request.log.error({ route: key, mapping: r.source, err: err.message }, 'mapping error')
  try {
    validators?.request(params, query, body)
  } catch (err) {
    // Something that does not exist is reported as such whatever the request carries.
    if (err instanceof GatewayError && route.exists) await confirmExists(route, route.exists, { ...routeRequest, body: undefined }, { ...options, onUpstream, onMappingError, trace: request.trace })
    throw err
  }

  const respond = () => answer(key, route, routeRequest, request, validators, options, onUpstream, onMappingError)
  const idempotencyKey = route.idempotency && request.method !== 'GET' ? (body as Record<string, unknown> | undefined)?.idempotencyKey : undefined
  if (typeof idempotencyKey !== 'string') return { ...(await respond()), replayed: false, upstreamSeconds: state.upstreamSeconds }
  if (idempotencyKey.length > IDEMPOTENCY_KEY_MAX) {
    throw new GatewayError(ERRORS.requestInvalid, { message: `idempotencyKey is longer than ${IDEMPOTENCY_KEY_MAX} characters`, propertyName: '/idempotencyKey', requestPart: 'body' })
  }
  // Scoped by credential and canonical target (route and account): the same key on another endpoint is another request.
  const scope = `${request.credential.id}:${request.method} ${request.target.path}:${idempotencyKey}`
  const print = fingerprint(request.method, request.target.path, request.target.query, body)
  let refusal: ErrorSpec | undefined
  const outcome = await runOnce(options.idempotency.store, scope, print, options.idempotency.waitMs, async () => {
    const result = await respond()
    refusal = result.refusal
    return { status: result.status, body: result.body }
  })
  if (outcome.replayed) options.metrics.idempotentReplays.inc({ route: key })
  return { ...outcome, ...(refusal ? { refusal } : {}), upstreamSeconds: state.upstreamSeconds }
}

/** The whole answer for one execution, errors included, as it would be stored for retries. */
async function answer(
  key: string,
  route: CompiledRoute,
  routeRequest: RouteRequest,
  request: MappedRequest,
  validators: OperationValidators | undefined,
  options: PipelineOptions,
  onUpstream: (status: string, seconds: number) => void,
  onMappingError: (route: CompiledRoute, err: Error) => void,
): Promise<StoredResponse & { refusal?: ErrorSpec }> {
  try {
    const result = await inSpan(request.trace, 'mapping', (trace) =>
      executeRoute(route, routeRequest, { upstream: options.upstream, subjectHeader: options.subjectHeader, onMappingError, onUpstream, trace }),
    )
    let payload = result.body
    if (key === ACCOUNT_LIST_ROUTE) payload = withinScope(payload, request.credential)
    if (route.paginate) payload = paginate(payload, route.paginate, routeRequest.query as PageQuery, `${route.source} paginate`)
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
    const refusal = toGatewayError(err, (mappingError) => onMappingError(route, mappingError))
    if (refusal.spec.status >= 500) request.log.error({ err: refusal.cause ?? refusal, reason: refusal.spec.reason }, refusal.message)
    return { status: refusal.spec.status, body: JSON.stringify(refusal.body), refusal: refusal.spec }
  }
}

/**
 * For a request that breaks the schema: runs the route's `exists` call and throws its translated
 * error when the backend says the path names nothing (a 4xx). Any other outcome leaves the 400.
 */
async function confirmExists(
  route: CompiledRoute,
  exists: CompiledCall,
  request: RouteRequest,
  options: PipelineOptions & { onUpstream: (status: string, seconds: number) => void; onMappingError: (route: CompiledRoute, err: Error) => void; trace: Trace | undefined },
): Promise<void> {
  const check: CompiledRoute = { ...route, calls: [exists], response: () => undefined, status: () => 200 }
  try {
    await executeRoute(check, request, { upstream: options.upstream, subjectHeader: options.subjectHeader, onMappingError: options.onMappingError, onUpstream: options.onUpstream, trace: options.trace })
  } catch (err) {
    if (err instanceof GatewayError && err.spec.status >= 400 && err.spec.status < 500) throw err
  }
}
