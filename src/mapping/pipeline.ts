/**
 * One authenticated request on a mapped route, start to finish, without a
 * socket: body parsed → pagination query checked → OpenAPI validation (an
 * unknown account still answers 404: `exists`) → idempotency → the mapping's
 * calls → account scope on the account list → pagination → response
 * validation. Returns the answer exactly as it is sent and stored for retries.
 */
import { subjectScope } from '../auth/authenticator.js'
import type { Credential } from '../credentials/credential.js'
import { ERRORS, GatewayError, toGatewayError, type ErrorSpec } from '../errors.js'
import { fingerprint, runOnce } from '../idempotency/guard.js'
import type { IdempotencyStore, Retention, StoredResponse } from '../idempotency/store.js'
import type { GatewayMetrics } from '../metrics.js'
import type { OperationValidators } from '../openapi/validators.js'
import { parseJsonBody } from '../request/body.js'
import { checkBodyAccounts, withinScope } from '../request/scope.js'
import type { RequestTarget } from '../request/target.js'
import { inSpan, type Trace } from '../tracing.js'
import type { UpstreamClient } from '../upstream.js'
import { executeRoute, noProgress, type Progress, type RouteRequest } from './execute.js'
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
  /** Who asks: the identity upstream, the account scope, the idempotency scope. */
  credential: Pick<Credential, 'id' | 'subject' | 'accounts'>
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
  checkBodyAccounts(key, body, request.credential)
  const params = { ...request.params }
  const query: Record<string, unknown> = { ...request.target.query }
  const validators = options.validators.get(key)
  if (route.paginate || validators?.operation.queryNames.includes('startingAfter')) checkCursors(query as PageQuery)
  const state = { upstreamSeconds: 0 }
  // What the calls that can change something did, whichever failed: what the idempotency record keeps.
  const progress = noProgress()
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

  const respond = () => answer(key, route, routeRequest, request, validators, options, onUpstream, onMappingError, progress)
  const idempotent = route.idempotency && request.method !== 'GET'
  const idempotencyKey = idempotent ? (body as Record<string, unknown> | undefined)?.idempotencyKey : undefined
  // A key the guard cannot use is refused, not waved through: a retry of it would be a second execution.
  // (A body without one is answered unguarded; the OpenAPI document, when loaded, requires it where the spec does.)
  const badKey = (message: string) => new GatewayError(ERRORS.requestInvalid, { message, propertyName: '/idempotencyKey', requestPart: 'body' })
  if (idempotencyKey === undefined) return { ...(await respond()), replayed: false, upstreamSeconds: state.upstreamSeconds }
  if (typeof idempotencyKey !== 'string' || idempotencyKey === '') throw badKey('idempotencyKey must be a non-empty string')
  if (idempotencyKey.length > IDEMPOTENCY_KEY_MAX) throw badKey(`idempotencyKey is longer than ${IDEMPOTENCY_KEY_MAX} characters`)
  // Scoped by customer (whichever of its credentials presents the key) and canonical target: the same key on
  // another endpoint is another request. Every part is percent-encoded: no key can spell another's, nor a Redis hash tag.
  const scope = `${subjectScope(request.credential.subject)}:${request.method} ${request.target.path}:${encodeURIComponent(idempotencyKey)}`
  const print = fingerprint(request.method, request.target.path, request.target.query, body)
  let refusal: ErrorSpec | undefined
  const outcome = await runOnce(options.idempotency.store, scope, print, options.idempotency.waitMs, async () => {
    const result = await respond()
    refusal = result.refusal
    return { status: result.status, body: result.body, ...(result.retention ? { retention: result.retention } : {}) }
  })
  if (outcome.replayed) options.metrics.idempotentReplays.inc({ route: key })
  if (!outcome.recorded) request.log.error({ route: key, status: outcome.status }, 'the idempotency store could not keep this answer: a retry after the lock may execute again')
  const { recorded: _recorded, ...answered } = outcome
  return { ...answered, ...(refusal ? { refusal } : {}), upstreamSeconds: state.upstreamSeconds }
}

/**
 * The whole answer for one execution, errors included, as it would be stored for retries.
 * A success is cut to the account scope and paged; any answer the mapping made (a success,
 * a templated error status, an error a rule translated) is checked against the spec's schema
 * for its status.
 */
async function answer(
  key: string,
  route: CompiledRoute,
  routeRequest: RouteRequest,
  request: MappedRequest,
  validators: OperationValidators | undefined,
  options: PipelineOptions,
  onUpstream: (status: string, seconds: number) => void,
  onMappingError: (route: CompiledRoute, err: Error) => void,
  progress: Progress,
): Promise<StoredResponse & { refusal?: ErrorSpec; retention?: Retention }> {
  const refused = (err: unknown) => {
    const refusal = toGatewayError(err, (mappingError) => onMappingError(route, mappingError))
    if (refusal.spec.status >= 500) request.log.error({ err: refusal.cause ?? refusal, reason: refusal.spec.reason }, refusal.message)
    return { status: refusal.spec.status, body: JSON.stringify(refusal.body), refusal: refusal.spec, retention: retention(refusal.spec.status, progress, refusal) }
  }
  let status: number
  let payload: unknown
  let translated: ErrorSpec | undefined
  try {
    const result = await inSpan(request.trace, 'mapping', (trace) =>
      executeRoute(route, routeRequest, { upstream: options.upstream, subjectHeader: options.subjectHeader, onMappingError, onUpstream, trace, progress }),
    )
    status = result.status
    payload = result.body
    if (status >= 200 && status <= 299) {
      payload = withinScope(key, payload, request.credential)
      if (route.paginate) payload = paginate(payload, route.paginate, routeRequest.query as PageQuery, `${route.source} paginate`)
    }
  } catch (err) {
    // The gateway's own errors are its catalogue's; an error a mapping rule made is checked like any mapped answer.
    if (!(err instanceof GatewayError) || err.spec.code !== ERRORS.backendError.code) return refused(err)
    if (err.spec.status >= 500) request.log.error({ err, reason: err.spec.reason }, err.message)
    status = err.spec.status
    payload = err.body
    translated = err.spec
  }
  if (options.responseValidation !== 'off' && validators) {
    let problem: ReturnType<OperationValidators['error']>
    try {
      problem = status >= 200 && status <= 299 ? validators.response?.(payload) : validators.error(status, payload)
    } catch (err) {
      return refused(err)
    }
    if (problem) {
      options.metrics.responseInvalid.inc({ route: key })
      request.log.error({ route: key, mapping: route.source, status, path: problem.instancePath || '/', problem: problem.message, params: problem.params }, 'mapped response breaks the OpenAPI schema')
      if (options.responseValidation === 'enforce') return refused(new GatewayError(ERRORS.responseInvalid))
    }
  }
  // A 5xx the mapping made (a rule, a templated status) is the backend saying that a call failed.
  const kept = retention(status, progress)
  let body: string
  try {
    body = payload === undefined ? '' : JSON.stringify(payload)
  } catch (err) {
    // A backend answer nested past what the stack holds: the gateway's failure, whatever the backend did.
    return refused(err)
  }
  return { status, body, ...(translated ? { refusal: translated } : {}), retention: kept }
}

/**
 * What an idempotency key keeps (src/idempotency/store.ts Retention) from an
 * answer with `status`, given what the calls that can change something did
 * (execute.ts Progress), whichever call or item failed. A 2xx or 4xx is kept,
 * as the spec says (a 4xx after something changed is already a 502, partially
 * executed, and kept as the answer it is). A 5xx is kept too once such a
 * call succeeded or acted (a retry would do it again), held for the lock while
 * nobody knows (such a call sent and never answered, or answered 5xx: the
 * backend, or a proxy in front of it, may have acted before failing; an error
 * inside a success), and otherwise frees the key for a clean retry: nothing
 * that changes anything was sent, or it was refused. A failure of the
 * gateway's own (`refusal` of no backend or mapping kind) is held.
 */
function retention(status: number, progress: Progress, refusal?: GatewayError): Retention {
  if (status < 500 || progress.succeeded > 0 || progress.acted || refusal?.spec === ERRORS.partiallyExecuted) return 'store'
  if (progress.unknown || progress.failedInSuccess) return 'hold'
  if (!refusal || refusal.spec.kind === 'upstream' || refusal.spec.kind === 'mapping' || refusal.spec === ERRORS.upstreamNotJson) return 'release'
  return 'hold'
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
