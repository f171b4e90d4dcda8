/**
 * Runs a compiled route for one authenticated request: build each upstream
 * call from the request, make it, translate the backend's errors, and build
 * the Network Link answer. Framework-free: the plugin supplies the request
 * values and sends the result.
 */
import { ERRORS, GatewayError, toGatewayError, type ErrorType, type RequestPart } from '../errors.js'
import { injectTraceparent, SpanKind, startSpan, type Trace } from '../tracing.js'
import { UpstreamError, type UpstreamClient, type UpstreamRequest } from '../upstream.js'
import type { CompiledErrorRule } from './error-rules.js'
import { parseJson, stringifyJson } from './json.js'
import { pathText, valueAt, withValueAt } from './path.js'
import { PathValueError, type CompiledCall, type CompiledRoute, type OffsetPages } from './route.js'
import { MappingError, truthy, type Scope } from './template.js'

export interface RouteRequest {
  params: Record<string, string>
  query: Record<string, unknown>
  body: unknown
  headers: Record<string, unknown>
  subject: string
  credential: string
  requestId: string
}

export interface RouteResult {
  status: number
  body: unknown
}

export interface ExecuteOptions {
  upstream: UpstreamClient
  subjectHeader: string
  /** Logs what the client must not see: which template failed and why. */
  onMappingError?: (route: CompiledRoute, err: Error) => void
  /** Each backend call's status (or `timeout`, `unavailable`…) and duration: metrics and the access log. */
  onUpstream?: (status: string, seconds: number) => void
  /** The mapping's span: each backend call is a child of it, and carries its traceparent. */
  trace?: Trace
  /** Shared with the caller, which decides what an idempotency key keeps from it. */
  progress?: Progress
}

export async function executeRoute(route: CompiledRoute, request: RouteRequest, options: ExecuteOptions): Promise<RouteResult> {
  const scope: Scope = {
    params: request.params,
    query: request.query,
    body: request.body,
    headers: request.headers,
    subject: request.subject,
    credential: request.credential,
    requestId: request.requestId,
    now: new Date().toISOString(),
    request,
  }
  let last: Answer | undefined
  const progress = options.progress ?? noProgress()
  // Whether a request other than the last one made changed something (an earlier call, or an earlier page or item
  // of the last call): then a 4xx the route's status makes is a partial execution, not that request's own verdict.
  let changedBefore = false
  for (const call of route.calls) {
    // Request-side templates always see the Network Link request as $body; results by call name.
    scope.body = request.body
    const before = progress.succeeded
    const made = await makeCall(route, call, scope, options, progress)
    if (made === undefined) continue
    changedBefore = before > 0 || progress.succeeded - before > 1
    last = made
    if (call.name) scope[call.name] = last.body
  }
  if (route.calls.length > 0) {
    // The last call made answers as $body; a skipped call's name stays absent.
    scope.body = last?.body
    scope.status = last?.status
  }
  let result: RouteResult
  try {
    result = { status: Number(route.status(scope)), body: route.response(scope) }
  } catch (err) {
    throw translationError(route, err, ERRORS.mappingFailed, options)
  }
  if (changedBefore && isClientError(result.status)) throw partiallyExecuted(route, `the route answered ${result.status}`, options)
  return result
}

interface Answer {
  status: number
  body: unknown
}

/**
 * What the calls that can change something (CompiledCall `changes`, on a route
 * that is not a GET) have done so far in this request, whichever call or item
 * failed: the idempotency record's keep, hold or release (pipeline.ts) and the
 * partial-execution answer are decided from it.
 */
export interface Progress {
  /** How many of their requests succeeded (answered 2xx, no error rule holding), each page and item its own. */
  succeeded: number
  /** One was answered 2xx or 3xx and its answer could not be read or translated (body cut, too large, not JSON): the backend acted. */
  acted: boolean
  /** One was sent and nothing came back (timed out, cut off before a status): the backend may have acted. */
  unknown: boolean
  /** One was answered 2xx with an error inside, by a rule: the backend says it failed, in a success. */
  failedInSuccess: boolean
}

export function noProgress(): Progress {
  return { succeeded: 0, acted: false, unknown: false, failedInSuccess: false }
}

/** What became of one call (its pages, if paged): whether it left, the last status it got, whether a rule found an error inside a 2xx. */
interface CallOutcome {
  sent: boolean
  status: number
  failedInSuccess: boolean
}

/** Connection errors that mean the request never left: nothing can have happened at the backend. */
const NOT_SENT = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

const isClientError = (status: number) => status >= 400 && status <= 499

/** Refused: the backend's 4xx, or an answer the route's rules read as a client error, whatever its status. */
function isRefusal(err: unknown): err is GatewayError {
  return err instanceof GatewayError && isClientError(err.spec.status)
}

/** A failed call that can change something, added to the request's progress, unless `error` (its answer) is a refusal. */
function noteFailure(progress: Progress, outcome: CallOutcome, error: unknown): void {
  if (isRefusal(error)) return
  if (outcome.failedInSuccess) progress.failedInSuccess = true
  else if (outcome.status >= 200 && outcome.status <= 399) progress.acted = true
  // Nothing came back, or a 5xx: the backend may have acted before it failed, and a proxy in front of it says 5xx
  // when the connection broke after the request was sent (Envoy 503, Cloudflare 520/524, 502, 504).
  else if (outcome.sent && (outcome.status === 0 || outcome.status >= 500)) progress.unknown = true
}

/**
 * A call refused with a 4xx after another one changed something, or may have
 * (an earlier call of the route, or another item of a per-item call, however
 * its own answer then failed): a 4xx would tell the client nothing happened,
 * and a new request of its own would repeat what did. The route is answered as
 * partially executed instead (a 5xx, which the idempotency record keeps), and
 * the refusal is logged as its cause.
 */
function afterProgress(route: CompiledRoute, err: unknown, progress: Progress, options: ExecuteOptions): unknown {
  if (!(progress.succeeded > 0 || progress.acted || progress.unknown || progress.failedInSuccess) || !isRefusal(err)) return err
  return partiallyExecuted(route, `a call was refused (${err.spec.status} ${err.message})`, options, err)
}

/**
 * What a failed request answers: judged by what the other requests did (a call's own 5xx, turned into a 4xx by its
 * rules, is its refusal, not progress before it), then its own `outcome` added to the progress.
 */
function judged(route: CompiledRoute, err: unknown, outcome: CallOutcome | undefined, progress: Progress, options: ExecuteOptions): unknown {
  const answer = afterProgress(route, err, progress, options)
  if (outcome) noteFailure(progress, outcome, err)
  return answer
}

function partiallyExecuted(route: CompiledRoute, what: string, options: ExecuteOptions, cause?: unknown): GatewayError {
  options.onMappingError?.(route, new Error(`${what} after a call changed something, or may have`))
  return new GatewayError(ERRORS.partiallyExecuted, {}, cause === undefined ? {} : { cause })
}

/** One call's answer; undefined when its `if` does not hold and it is skipped. A per-item call answers the list of its answers. */
async function makeCall(route: CompiledRoute, call: CompiledCall, scope: Scope, options: ExecuteOptions, progress: Progress): Promise<Answer | undefined> {
  try {
    if (call.condition && !truthy(call.condition(scope))) return undefined
  } catch (err) {
    throw afterProgress(route, translationError(route, err, ERRORS.requestNotMappable, options), progress, options)
  }
  if (!call.each) return fetchAnswer(route, call, scope, ERRORS.requestNotMappable, options, progress)
  let items: unknown
  try {
    items = call.each.list(scope)
  } catch (err) {
    throw translationError(route, err, ERRORS.mappingFailed, options)
  }
  if (items === undefined || items === null) items = []
  if (!Array.isArray(items)) throw translationError(route, new MappingError(`${route.source} each`, 'expected a list of items to call for'), ERRORS.mappingFailed, options)
  return { status: 200, body: await forEachItem(route, call, call.each, items, scope, options, progress) }
}

/**
 * The per-item call for every element, `concurrency` at a time, answers in the
 * list's order. The first failure (in list order) answers for the request; no
 * new call starts after one has failed.
 */
async function forEachItem(route: CompiledRoute, call: CompiledCall, each: NonNullable<CompiledCall['each']>, items: unknown[], scope: Scope, options: ExecuteOptions, progress: Progress): Promise<unknown[]> {
  const bodies = new Array<unknown>(items.length)
  let next = 0
  const failures: Array<{ index: number; failure: ItemFailure }> = []
  const worker = async () => {
    while (failures.length === 0 && next < items.length) {
      const index = next++
      // Its own scope: calls in flight at once must not see each other's element.
      const itemScope: Scope = { ...scope, [each.as]: items[index], index }
      try {
        bodies[index] = (await fetchAnswer(route, call, itemScope, ERRORS.mappingFailed, options, progress)).body
      } catch (failure) {
        failures.push({ index, failure: failure as ItemFailure })
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(each.concurrency, items.length) }, worker))
  if (failures.length === 0) return bodies
  // Read once every item has settled: an item that succeeded, or failed after acting, while another was refused
  // counts, whichever came first; the reported item's own outcome is judged after its refusal, as a single call's is.
  const reported = failures.reduce((first, f) => (f.index < first.index ? f : first))
  for (const { failure } of failures) if (failure !== reported.failure && failure.outcome) noteFailure(progress, failure.outcome, failure.error)
  throw judged(route, reported.failure.error, reported.failure.outcome, progress, options)
}

/** An item of a per-item call that failed, with what its request did when it can change something: judged with the others. */
class ItemFailure {
  constructor(
    readonly error: unknown,
    readonly outcome: CallOutcome | undefined,
  ) {}
}

/**
 * One request, or every page of an offset-paged list, its answer checked by the
 * error rules. `unmappable` is what a request that cannot be built answers: the
 * client's fault (400) when it comes from the request, the backend's (502) when
 * it comes from an element of an earlier answer.
 */
async function fetchAnswer(route: CompiledRoute, call: CompiledCall, scope: Scope, unmappable: Unmappable, options: ExecuteOptions, progress: Progress): Promise<Answer> {
  // A read route's backend calls read, whatever their method (a POST that pages in its body, say).
  const changes = call.changes && route.method !== 'GET'
  const outcome: CallOutcome = { sent: false, status: 0, failedInSuccess: false }
  try {
    const answer = call.pages
      ? await fetchAllPages(route, call, call.pages, scope, unmappable, options, outcome, () => {
          // Each page is a request of its own: one that went through has done what it does, whatever a later page meets.
          if (changes) progress.succeeded++
        })
      : checked(route, call, scope, await send(route, call, buildRequest(route, call, scope, unmappable, options), options, outcome), options, outcome)
    if (changes && !call.pages) progress.succeeded++
    return answer
  } catch (err) {
    // A per-item call's items are judged together once all have settled (forEachItem).
    if (call.each) throw new ItemFailure(err, changes ? outcome : undefined)
    throw judged(route, err, changes ? outcome : undefined, progress, options)
  }
}

type Unmappable = typeof ERRORS.requestNotMappable | typeof ERRORS.mappingFailed

function buildRequest(route: CompiledRoute, call: CompiledCall, scope: Scope, unmappable: Unmappable, options: ExecuteOptions): UpstreamRequest {
  const headers: Record<string, string> = { accept: 'application/json', [options.subjectHeader]: scope.subject as string }
  try {
    const path = call.target(scope)
    for (const [name, value] of call.headers) {
      const v = value(scope)
      if (v !== undefined && v !== null) headers[name] = String(v)
    }
    const value = call.body?.(scope)
    let body: string | undefined
    if (value !== undefined) {
      body = stringifyJson(value)
      headers['content-type'] = 'application/json'
    }
    return { method: call.method, path, headers, body, timeoutMs: call.timeoutMs, ...(call.name ? { call: call.name } : {}) }
  } catch (err) {
    // Something the backend cannot be asked: an amount with too many decimals, a dot-segment id.
    throw translationError(route, err, unmappable, options)
  }
}

/** Offset-paged backends: request page after page and join their items into one list. */
async function fetchAllPages(route: CompiledRoute, call: CompiledCall, pages: OffsetPages, scope: Scope, unmappable: Unmappable, options: ExecuteOptions, outcome: CallOutcome, onPage: () => void): Promise<Answer> {
  const all: unknown[] = []
  for (;;) {
    const pageScope: Scope = { ...scope, page: { offset: all.length, limit: pages.size } }
    const request = buildRequest(route, call, pageScope, unmappable, options)
    if (pages.query) request.path += `${request.path.includes('?') ? '&' : '?'}${pages.query.offset}=${all.length}&${pages.query.limit}=${pages.size}`
    const page = checked(route, call, pageScope, await send(route, call, request, options, outcome), options, outcome)
    onPage()
    const items = valueAt(page.body, pages.items)
    if (!Array.isArray(items)) throw translationError(route, new MappingError(`${call.method} ${request.path}`, `a page has no list "${pathText(pages.items)}"`), ERRORS.mappingFailed, options)
    all.push(...items)
    const total = pages.total === undefined ? undefined : Number(valueAt(page.body, pages.total))
    if (items.length < pages.size || all.length >= pages.max || (total !== undefined && all.length >= total)) {
      if (items.length === pages.size && all.length >= pages.max) options.onMappingError?.(route, new Error(`stopped after ${all.length} items (pages.max); later items cannot be paged to`))
      return { status: page.status, body: withValueAt(page.body, pages.items, all) }
    }
  }
}

/**
 * The answer itself, unless an error rule holds for it. Outside 2xx every rule is
 * tried and an answer no rule translates is a 502; a 2xx is tried only against the
 * rules that can hold for one (errors inside a success), usually none.
 */
function checked(route: CompiledRoute, call: CompiledCall, scope: Scope, answer: Answer, options: ExecuteOptions, outcome: CallOutcome): Answer {
  const failed = answer.status < 200 || answer.status > 299
  const rules = failed ? route.errors : route.successErrors
  if (rules.length === 0 && !failed) return answer
  // In error rules, $body, $status and the call's name are this answer's.
  const view: Scope = { ...scope, body: answer.body, status: answer.status, ...(call.name ? { [call.name]: answer.body } : {}) }
  let rule: CompiledErrorRule | undefined
  try {
    rule = rules.find((r) => r.matches(answer.status, view))
  } catch (err) {
    throw translationError(route, err, ERRORS.mappingFailed, options)
  }
  if (rule) {
    if (!failed) outcome.failedInSuccess = true
    throw ruleError(route, rule, view, options)
  }
  if (!failed) return answer
  options.onMappingError?.(route, new Error(`backend answered ${answer.status}, which no error rule of ${route.method} ${route.path} translates`))
  throw new GatewayError(ERRORS.upstreamUnmapped)
}

async function send(route: CompiledRoute, call: CompiledCall, request: UpstreamRequest, options: ExecuteOptions, outcome: CallOutcome): Promise<Answer> {
  let res
  const started = performance.now()
  const span = startSpan(options.trace, `backend ${call.method}`, SpanKind.CLIENT)
  span?.span.setAttributes({ 'http.request.method': call.method, 'url.path': request.path.split('?')[0] })
  const sent = span ? { ...request, headers: { ...request.headers } } : request
  injectTraceparent(span?.trace, sent.headers)
  outcome.sent = true
  try {
    res = await options.upstream.request(sent)
  } catch (err) {
    span?.end(err)
    if (err instanceof UpstreamError) {
      outcome.status = err.status
      const code = (err.cause as { code?: string } | undefined)?.code
      if (err.kind === 'unavailable' && code !== undefined && NOT_SENT.has(code)) outcome.sent = false
    }
    options.onUpstream?.(err instanceof UpstreamError ? err.kind : 'error', (performance.now() - started) / 1000)
    throw toGatewayError(err)
  }
  outcome.status = res.status
  span?.span.setAttribute('http.response.status_code', res.status)
  span?.end()
  options.onUpstream?.(String(res.status), (performance.now() - started) / 1000)
  if (res.body.length === 0) return { status: res.status, body: undefined }
  try {
    return { status: res.status, body: parseJson(res.body.toString('utf8'), call.exactNumbers) }
  } catch (err) {
    // An error status with a non-JSON body can still be translated by status alone.
    if (res.status < 200 || res.status > 299) return { status: res.status, body: undefined }
    options.onMappingError?.(route, new Error(`${request.method} ${request.path} answered ${res.status} with a body that is not JSON: ${(err as Error).message}`))
    throw new GatewayError(ERRORS.upstreamNotJson)
  }
}

/** The Network Link error a rule makes of a backend answer. */
function ruleError(route: CompiledRoute, rule: CompiledErrorRule, scope: Scope, options: ExecuteOptions): GatewayError {
  try {
    const message = rule.message(scope)
    const propertyName = rule.propertyName(scope)
    const requestPart = rule.requestPart(scope)
    return new GatewayError(
      { ...ERRORS.backendError, status: rule.status, errorType: rule.errorType as ErrorType },
      {
        message: typeof message === 'string' ? message : ERRORS.backendError.message,
        ...(propertyName !== undefined ? { propertyName: String(propertyName) } : {}),
        ...(requestPart !== undefined ? { requestPart: String(requestPart) as RequestPart } : {}),
      },
    )
  } catch (err) {
    return translationError(route, err, ERRORS.mappingFailed, options)
  }
}

function translationError(route: CompiledRoute, err: unknown, spec: Unmappable, options: ExecuteOptions): GatewayError {
  if (!(err instanceof MappingError) && !(err instanceof PathValueError)) throw err
  options.onMappingError?.(route, err)
  // The client learns why its request could not be translated, never which template or backend field failed.
  const reason = err.message.replace(/^[^:]*: /, '')
  return new GatewayError(spec, spec === ERRORS.requestNotMappable ? { message: reason } : {}, { cause: err })
}
