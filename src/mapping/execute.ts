/**
 * Runs a compiled route for one authenticated request: build each upstream
 * call from the request, make it, translate the backend's errors, and build
 * the Network Link answer. Framework-free: the plugin supplies the request
 * values and sends the result.
 */
import { ERRORS, GatewayError, toGatewayError, type ErrorType, type RequestPart } from '../errors.js'
import { injectTraceparent, SpanKind, startSpan, type Trace } from '../tracing.js'
import { UpstreamError, type UpstreamClient } from '../upstream.js'
import { parseJson, stringifyJson } from './json.js'
import { PathValueError, type CompiledCall, type CompiledRoute } from './route.js'
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
  /** Each backend call's status (or `error`) and duration, for metrics and the access log. */
  onUpstream?: (status: string, seconds: number) => void
  /** The mapping's span: each backend call is a child of it, and carries its traceparent. */
  trace?: Trace
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
  let last: { status: number; body: unknown } | undefined
  for (const call of route.calls) {
    // Request-side templates always see the Network Link request as $body; results by call name.
    scope.body = request.body
    const made = await callUpstream(route, call, scope, options)
    if (made === undefined) continue
    last = made
    if (call.name) scope[call.name] = last.body
    if (last.status < 200 || last.status > 299) {
      scope.body = last.body
      scope.status = last.status
      throw backendError(route, scope, last.status, options)
    }
  }
  if (route.calls.length > 0) {
    // The last call made answers as $body; a skipped call's name stays absent.
    scope.body = last?.body
    scope.status = last?.status
  }
  try {
    return { status: Number(route.status(scope)), body: route.response(scope) }
  } catch (err) {
    throw translationError(route, err, ERRORS.mappingFailed, options)
  }
}

/** One call's answer; undefined when its `if` does not hold and it is skipped. */
async function callUpstream(route: CompiledRoute, call: CompiledCall, scope: Scope, options: ExecuteOptions): Promise<{ status: number; body: unknown } | undefined> {
  let path: string
  const headers: Record<string, string> = { accept: 'application/json', [options.subjectHeader]: scope.subject as string }
  let body: string | undefined
  try {
    if (call.condition && !truthy(call.condition(scope))) return undefined
    path = call.target(scope)
    for (const [name, value] of call.headers) {
      const v = value(scope)
      if (v !== undefined && v !== null) headers[name] = String(v)
    }
    if (call.body) {
      const value = call.body(scope)
      if (value !== undefined) {
        body = stringifyJson(value)
        headers['content-type'] = 'application/json'
      }
    }
  } catch (err) {
    // The request carries something the backend cannot be asked (an amount with too many decimals, a dot-segment id).
    throw translationError(route, err, ERRORS.requestNotMappable, options)
  }
  if (call.pages) return fetchAllPages(route, call, call.pages, path, headers, options)
  return send(route, call, path, headers, body, options)
}

/** Offset-paged backends: request page after page and join their items into one list. */
async function fetchAllPages(
  route: CompiledRoute,
  call: CompiledCall,
  pages: NonNullable<CompiledCall['pages']>,
  path: string,
  headers: Record<string, string>,
  options: ExecuteOptions,
): Promise<{ status: number; body: unknown }> {
  const all: unknown[] = []
  const separator = path.includes('?') ? '&' : '?'
  for (;;) {
    const page = await send(route, call, `${path}${separator}${pages.offset}=${all.length}&${pages.limit}=${pages.size}`, headers, undefined, options)
    if (page.status < 200 || page.status > 299) return page
    const items = (page.body as Record<string, unknown> | undefined)?.[pages.items]
    if (!Array.isArray(items)) throw translationError(route, new MappingError(`${call.method} ${path}`, `a page has no list "${pages.items}"`), ERRORS.mappingFailed, options)
    all.push(...items)
    const total = pages.total === undefined ? undefined : Number((page.body as Record<string, unknown>)[pages.total])
    if (items.length < pages.size || all.length >= pages.max || (total !== undefined && all.length >= total)) {
      if (items.length === pages.size) options.onMappingError?.(route, new Error(`stopped after ${all.length} items (pages.max); later items cannot be paged to`))
      return { status: page.status, body: { ...(page.body as Record<string, unknown>), [pages.items]: all } }
    }
  }
}

async function send(
  route: CompiledRoute,
  call: CompiledCall,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  options: ExecuteOptions,
): Promise<{ status: number; body: unknown }> {
  let res
  const started = performance.now()
  const span = startSpan(options.trace, `backend ${call.method}`, SpanKind.CLIENT)
  span?.span.setAttributes({ 'http.request.method': call.method, 'url.path': path.split('?')[0] })
  const sent = span ? { ...headers } : headers
  injectTraceparent(span?.trace, sent)
  try {
    res = await options.upstream.request({ method: call.method, path, headers: sent, body, timeoutMs: call.timeoutMs })
  } catch (err) {
    span?.end(err)
    options.onUpstream?.(err instanceof UpstreamError ? err.kind : 'error', (performance.now() - started) / 1000)
    throw toGatewayError(err)
  }
  span?.span.setAttribute('http.response.status_code', res.status)
  span?.end()
  options.onUpstream?.(String(res.status), (performance.now() - started) / 1000)
  if (res.body.length === 0) return { status: res.status, body: undefined }
  try {
    return { status: res.status, body: parseJson(res.body.toString('utf8'), call.exactNumbers) }
  } catch (err) {
    // An error status with a non-JSON body can still be translated by status alone.
    if (res.status < 200 || res.status > 299) return { status: res.status, body: undefined }
    options.onMappingError?.(route, new Error(`${call.method} ${path} answered ${res.status} with a body that is not JSON: ${(err as Error).message}`))
    throw new GatewayError(ERRORS.upstreamNotJson)
  }
}

function backendError(route: CompiledRoute, scope: Scope, status: number, options: ExecuteOptions): GatewayError {
  const rule = route.errors.find((r) => r.matches(status, scope))
  if (!rule) {
    options.onMappingError?.(route, new Error(`backend answered ${status}, which no error rule of ${route.method} ${route.path} translates`))
    return new GatewayError(ERRORS.upstreamUnmapped)
  }
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

function translationError(route: CompiledRoute, err: unknown, spec: typeof ERRORS.mappingFailed | typeof ERRORS.requestNotMappable, options: ExecuteOptions): GatewayError {
  if (!(err instanceof MappingError) && !(err instanceof PathValueError)) throw err
  options.onMappingError?.(route, err)
  // The client learns why its request could not be translated, never which template or backend field failed.
  const reason = err.message.replace(/^[^:]*: /, '')
  return new GatewayError(spec, spec === ERRORS.requestNotMappable ? { message: reason } : {}, { cause: err })
}
