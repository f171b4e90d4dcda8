/**
 * One mapped Network Link route, compiled: the upstream calls to make (none
 * for a static response), how to build the Network Link answer from their
 * results, and how to translate the backend's errors.
 */
import { parseDuration } from '../config/duration.js'
import { suggest, type Problem } from '../config/problems.js'
import type { SourceDocument } from '../config/yaml.js'
import { compileSchema, schemaProblems } from '../config/validate.js'
import type { ErrorType } from '../errors.js'
import { isConnectionHeader } from '../http.js'
import { splitRouteKey, templateParams } from '../route-table.js'
import type { PaginateSpec } from './paginate.js'
import { callSchema, METHODS } from './schema.js'
import { compileReference, compileTemplate, type CompileContext, type Evaluate, type Scope } from './template.js'

export interface CompiledCall {
  name?: string
  /** The call is made only when this holds; a skipped call's result is absent. */
  condition?: Evaluate
  method: string
  /** Path and query, every substituted value percent-encoded. */
  target: (scope: Scope) => string
  headers: Array<[string, Evaluate]>
  body?: Evaluate
  timeoutMs: number
  exactNumbers: boolean
  /** The backend pages with offset and limit: fetch every page and join their items. */
  pages?: { items: string; offset: string; limit: string; size: number; max: number; total?: string }
}

export interface CompiledErrorRule {
  matches: (status: number, scope: Scope) => boolean
  status: number
  errorType: ErrorType
  message: Evaluate
  propertyName: Evaluate
  requestPart: Evaluate
}

export interface CompiledRoute {
  method: string
  /** The Network Link path template, e.g. /accounts/{accountId}/balances. */
  path: string
  /** Where the route is defined, for logs. */
  source: string
  calls: CompiledCall[]
  status: Evaluate
  response: Evaluate
  errors: CompiledErrorRule[]
  /** Network Link pagination applied by the gateway over the whole list. */
  paginate?: PaginateSpec
  /** Retries with the same idempotencyKey get the stored response (default on). */
  idempotency: boolean
  /**
   * Checks that the path names something that exists, made only when the request breaks the
   * OpenAPI schema: its translated 4xx (an unknown account: 404) answers instead of the 400.
   */
  exists?: CompiledCall
}

/** Roots every template can read; `body` is the request body before the calls and the backend's after. */
export const REQUEST_ROOTS = ['params', 'query', 'body', 'headers', 'subject', 'credential', 'request', 'requestId', 'now'] as const
const RESPONSE_ROOTS = [...REQUEST_ROOTS, 'status'] as const

const validateCall = compileSchema(callSchema)

export interface RouteDefaults {
  timeoutMs: number
  exactNumbers: boolean
  errors: unknown[]
  subjectHeader: string
  /** The success status when a route names none (the OpenAPI document's, when loaded). */
  successStatus: (method: string, path: string) => number
}

export function compileRoute(doc: SourceDocument, index: number, raw: Record<string, unknown>, defaults: RouteDefaults, problems: Problem[]): CompiledRoute {
  const at = ['routes', index]
  const { method, path } = splitRouteKey(raw.route as string)
  const params = new Set(templateParams(path))
  const base: CompileContext = { doc, problems, roots: new Set(REQUEST_ROOTS), params }
  const callNames: string[] = []

  const rawCalls = raw.upstream === undefined ? [] : Array.isArray(raw.upstream) ? raw.upstream : [raw.upstream]
  const calls = rawCalls.map((rawCall, i) => {
    const callPath = Array.isArray(raw.upstream) ? [...at, 'upstream', i] : [...at, 'upstream']
    // Later calls may read earlier calls' results by name.
    const ctx = { ...base, roots: new Set([...base.roots, ...callNames]) }
    const call = compileCall(doc, callPath, rawCall as Record<string, unknown>, ctx, defaults, rawCalls.length > 1)
    if (call.name) {
      if ((RESPONSE_ROOTS as readonly string[]).includes(call.name) || callNames.includes(call.name)) problems.push(doc.problem([...callPath, 'name'], `"${call.name}" is already a name here; choose another`))
      callNames.push(call.name)
    }
    return call
  })

  // Made before validation, so it may read only the path and the credential.
  const exists = raw.exists === undefined ? undefined : compileCall(doc, [...at, 'exists'], raw.exists as Record<string, unknown>, { ...base, roots: new Set(['params', 'subject', 'credential', 'requestId', 'now']) }, defaults, false)

  const responseCtx: CompileContext = { ...base, roots: new Set([...RESPONSE_ROOTS, ...callNames]) }
  const ctx = calls.length ? responseCtx : base
  if (!calls.length && raw.response === undefined) problems.push(doc.problem(at, 'a route needs an upstream call or a static response'))
  const response = raw.response === undefined ? compileReference('$body', [...at], responseCtx) : compileTemplate(raw.response, [...at, 'response'], ctx)
  const status = compileTemplate(raw.status ?? defaults.successStatus(method, path), [...at, 'status'], ctx)
  const errors = ((raw.errors as unknown[] | undefined) ?? []).map((rule, i) => compileErrorRule(doc, [...at, 'errors', i], rule as Record<string, unknown>, responseCtx))
  if (calls.length) {
    // File-wide rules serve routes with different parameters: a missing $params value just leaves that field out.
    const shared = { ...responseCtx, params: undefined }
    defaults.errors.forEach((rule, i) => errors.push(compileErrorRule(doc, ['defaults', 'errors', i], rule as Record<string, unknown>, shared)))
  }

  const line = doc.problem(at, '').line
  const paginate = typeof raw.paginate === 'string' ? { list: raw.paginate, id: 'id' } : (raw.paginate as { list: string; id?: string } | undefined)
  return {
    method,
    path,
    source: `${doc.file}:${line ?? 0}`,
    calls,
    status,
    response,
    errors,
    ...(paginate ? { paginate: { list: paginate.list, id: paginate.id ?? 'id' } } : {}),
    idempotency: (raw.idempotency as boolean | undefined) ?? true,
    ...(exists ? { exists } : {}),
  }
}

function compileCall(doc: SourceDocument, path: Array<string | number>, raw: Record<string, unknown>, ctx: CompileContext, defaults: RouteDefaults, named: boolean): CompiledCall {
  ctx.problems.push(...schemaProblems(doc, validateCall, raw, path))
  const methods = METHODS.filter((m) => typeof raw[m] === 'string')
  if (methods.length !== 1) ctx.problems.push(doc.problem(path, `a call names exactly one of ${METHODS.join(', ')} with its path, e.g. get: /internal/v1/users/{subject}`))
  if (named && typeof raw.name !== 'string') ctx.problems.push(doc.problem(path, 'with several calls, each needs a name (used to read its result: $name.field)'))
  const method = methods[0] ?? 'get'
  const target = compileTarget(String(raw[method] ?? '/'), [...path, method], (raw.query as Record<string, unknown> | undefined) ?? {}, [...path, 'query'], ctx)
  const headers: Array<[string, Evaluate]> = []
  for (const [name, value] of Object.entries((raw.headers as Record<string, unknown> | undefined) ?? {})) {
    const lower = name.toLowerCase()
    if (isConnectionHeader(lower) || lower === defaults.subjectHeader) {
      ctx.problems.push(doc.problem([...path, 'headers', name], `${name} is set by the gateway and cannot be mapped`))
      continue
    }
    headers.push([lower, compileTemplate(value, [...path, 'headers', name], ctx)])
  }
  return {
    ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
    ...(raw.if !== undefined ? { condition: compileTemplate(raw.if, [...path, 'if'], ctx) } : {}),
    method: method.toUpperCase(),
    target,
    headers,
    ...(raw.body !== undefined ? { body: compileTemplate(raw.body, [...path, 'body'], ctx) } : {}),
    timeoutMs: parseDuration(raw.timeout as string | number | undefined, defaults.timeoutMs),
    exactNumbers: (raw.exactNumbers as boolean | undefined) ?? defaults.exactNumbers,
    ...(raw.pages ? { pages: pagesOf(raw.pages as Record<string, unknown>) } : {}),
  }
}

function pagesOf(raw: Record<string, unknown>): NonNullable<CompiledCall['pages']> {
  return {
    items: raw.items as string,
    offset: (raw.offset as string | undefined) ?? 'offset',
    limit: (raw.limit as string | undefined) ?? 'limit',
    size: (raw.size as number | undefined) ?? 100,
    max: (raw.max as number | undefined) ?? 10_000,
    ...(typeof raw.total === 'string' ? { total: raw.total } : {}),
  }
}

/** A path template plus query templates → the encoded request target. */
function compileTarget(template: string, path: Array<string | number>, query: Record<string, unknown>, queryPath: Array<string | number>, ctx: CompileContext): (scope: Scope) => string {
  const parts: Array<string | Evaluate> = []
  let last = 0
  for (const match of template.matchAll(/\{([^{}]+)\}/g)) {
    if (match.index > last) parts.push(template.slice(last, match.index))
    const inner = match[1] as string
    // {name} is shorthand for a path parameter of the Network Link route, or the subject.
    const reference = inner.startsWith('$') ? inner : inner === 'subject' ? '$subject' : `$params.${inner}`
    if (!inner.startsWith('$') && inner !== 'subject' && !ctx.params?.has(inner)) {
      const hint = suggest(inner, [...(ctx.params ?? []), 'subject'])
      ctx.problems.push(ctx.doc.problem(path, `{${inner}} is not a path parameter of the route${hint ? ` (did you mean {${hint}}?)` : ''}; write {$body.field} for other values`))
      continue
    }
    parts.push(compileReference(reference, path, ctx))
    last = match.index + match[0].length
  }
  if (last < template.length) parts.push(template.slice(last))
  const queryFields = Object.entries(query).map(([name, value]) => [encodeURIComponent(name), compileTemplate(value, [...queryPath, name], ctx)] as const)
  const at = path.join('.')
  return (scope) => {
    let out = ''
    for (const part of parts) out += typeof part === 'string' ? part : pathSegment(part(scope), at)
    let separator = '?'
    for (const [name, evaluate] of queryFields) {
      const v = evaluate(scope)
      if (v === undefined || v === null) continue
      for (const item of Array.isArray(v) ? v : [v]) {
        out += `${separator}${name}=${encodeURIComponent(scalar(item))}`
        separator = '&'
      }
    }
    return out
  }
}

export class PathValueError extends Error {
  override name = 'PathValueError'
}

/** Substituted values are always percent-encoded, and never a dot segment. */
function pathSegment(value: unknown, at: string): string {
  if (value === undefined || value === null || value === '') throw new PathValueError(`${at}: a path value is missing`)
  const text = scalar(value)
  if (text === '.' || text === '..') throw new PathValueError(`${at}: "${text}" cannot be a path segment`)
  return encodeURIComponent(text)
}

function scalar(v: unknown): string {
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)
}

const DEFAULT_STATUS: Partial<Record<ErrorType, number>> = { 'not-found': 404, 'internal-error': 500, unauthorized: 401 }

/**
 * `when: { status: 404 | [409, 422] | 4xx, $body.error.code: X | [X, Y] }`:
 * every listed condition must hold.
 */
function compileErrorRule(doc: SourceDocument, path: Array<string | number>, raw: Record<string, unknown>, ctx: CompileContext): CompiledErrorRule {
  const checks: Array<(status: number, scope: Scope) => boolean> = []
  for (const [key, expected] of Object.entries((raw.when as Record<string, unknown>) ?? {})) {
    const wanted = (Array.isArray(expected) ? expected : [expected]).map(String)
    if (key === 'status') {
      const patterns = wanted.map((w) => new RegExp(`^${w.replace(/x/gi, '\\d')}$`))
      if (wanted.some((w) => !/^[1-5][0-9x]{2}$/i.test(w))) ctx.problems.push(doc.problem([...path, 'when', key], 'status must be a code such as 404, a class such as 4xx, or a list of them'))
      checks.push((status) => patterns.some((p) => p.test(String(status))))
    } else if (key.startsWith('$')) {
      const value = compileReference(key, [...path, 'when', key], ctx)
      checks.push((_status, scope) => {
        const v = value(scope)
        return v !== undefined && v !== null && wanted.includes(String(v))
      })
    } else {
      ctx.problems.push(doc.problem([...path, 'when', key], `a condition is status or a reference such as $body.error.code, not "${key}"`))
    }
  }
  const errorType = raw.errorType as ErrorType
  return {
    matches: (status, scope) => checks.every((check) => check(status, scope)),
    status: (raw.status as number | undefined) ?? DEFAULT_STATUS[errorType] ?? 400,
    errorType,
    message: compileTemplate(raw.message ?? 'Request failed', [...path, 'message'], ctx),
    propertyName: compileTemplate(raw.propertyName, [...path, 'propertyName'], ctx),
    requestPart: compileTemplate(raw.requestPart, [...path, 'requestPart'], ctx),
  }
}

