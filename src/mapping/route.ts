/**
 * One mapped Network Link route, compiled: the upstream calls to make (none
 * for a static response), how to build the Network Link answer from their
 * results, and how to translate the backend's errors.
 */
import { parseDuration } from '../config/duration.js'
import { suggest, type Problem } from '../config/problems.js'
import type { SourceDocument } from '../config/yaml.js'
import { compileSchema, schemaProblems } from '../config/validate.js'
import { isConnectionHeader } from '../http.js'
import { splitRouteKey, templateParams } from '../route-table.js'
import { compileErrorRule, unreachableRules, type CompiledErrorRule } from './error-rules.js'
import type { PaginateSpec } from './paginate.js'
import { parsePath, PATH_PATTERN, type PathSegment } from './path.js'
import { callSchema, METHODS } from './schema.js'
import { paginateProblems } from './static-check.js'
import { compileReference, compileTemplate, templateShape, type CompileContext, type Evaluate, type Scope } from './template.js'

export interface CompiledCall {
  name?: string
  /** The call is made only when this holds; a skipped call's result is absent. */
  condition?: Evaluate
  /** A per-item call: made once for each element of `list` (bound as `as`, with `index`), at most `concurrency` at a time. */
  each?: { list: Evaluate; as: string; concurrency: number }
  method: string
  /** Whether the call can change something at the backend: any method but GET, unless the mapping says it only reads (`reads: true`). */
  changes: boolean
  /** Path and query, every substituted value percent-encoded. */
  target: (scope: Scope) => string
  headers: Array<[string, Evaluate]>
  body?: Evaluate
  timeoutMs: number
  exactNumbers: boolean
  /** The backend pages with offset and limit: fetch every page and join their items. */
  pages?: OffsetPages
}

export interface OffsetPages {
  /** Where each page's list is, and the total count when the backend gives one. */
  items: PathSegment[]
  total?: PathSegment[]
  /** Query parameter names for the offset and page size; absent when the call's templates place `$page` themselves. */
  query?: { offset: string; limit: string }
  size: number
  max: number
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
  /** The route's rules, then the file's defaults; the first that holds answers. */
  errors: CompiledErrorRule[]
  /** Those of `errors` that can hold for a 2xx answer (errors inside a success). */
  successErrors: CompiledErrorRule[]
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
  // A per-item call's failure is translated with its element in scope (absent for other calls).
  const rulesCtx: CompileContext = { ...responseCtx, roots: new Set([...responseCtx.roots, ...calls.flatMap((call) => (call.each ? [call.each.as] : []))]) }
  const errors = ((raw.errors as unknown[] | undefined) ?? []).map((rule, i) => compileErrorRule(doc, [...at, 'errors', i], rule as Record<string, unknown>, rulesCtx))
  if (!calls.length && errors.length) problems.push(doc.problem([...at, 'errors'], 'a route without upstream calls has no backend answer to translate: these rules can never answer'))
  problems.push(...unreachableRules(doc, errors))
  if (calls.length) {
    // File-wide rules serve routes with different parameters: a missing $params value just leaves that field out.
    const shared = { ...rulesCtx, params: undefined }
    const fileWide = defaults.errors.map((rule, i) => compileErrorRule(doc, ['defaults', 'errors', i], rule as Record<string, unknown>, shared))
    problems.push(...unreachableRules(doc, fileWide))
    errors.push(...fileWide)
  }

  const line = doc.problem(at, '').line
  const paginate = paginateOf(doc, at, raw.paginate, problems)
  if (paginate && raw.response !== undefined) problems.push(...paginateProblems(doc, [...at, 'paginate'], templateShape(raw.response, [...at, 'response']), paginate.list))
  return {
    method,
    path,
    source: `${doc.file}:${line ?? 0}`,
    calls,
    status,
    response,
    errors,
    successErrors: errors.filter((rule) => rule.onSuccess),
    ...(paginate ? { paginate } : {}),
    idempotency: (raw.idempotency as boolean | undefined) ?? true,
    ...(exists ? { exists } : {}),
  }
}

/** `paginate: balances` or `{ list: result.accounts, id: details.id }`: paths into the response and into each item. */
function paginateOf(doc: SourceDocument, at: Array<string | number>, raw: unknown, problems: Problem[]): PaginateSpec | undefined {
  if (raw === undefined) return undefined
  const spec = typeof raw === 'string' ? { list: raw } : (raw as { list: string; id?: string })
  const list = pathAt(doc, typeof raw === 'string' ? [...at, 'paginate'] : [...at, 'paginate', 'list'], spec.list, problems)
  const id = pathAt(doc, [...at, 'paginate', 'id'], spec.id ?? 'id', problems)
  return list && id ? { list, id } : undefined
}

/** A path written in a mapping (`result.items`); the schema has refused any other form, this refuses reserved keys. */
function pathAt(doc: SourceDocument, at: Array<string | number>, text: string, problems: Problem[]): PathSegment[] | undefined {
  const path = parsePath(text)
  if (!path && new RegExp(PATH_PATTERN).test(text)) problems.push(doc.problem(at, `"${text}" reads a reserved property`))
  return path
}

function compileCall(doc: SourceDocument, path: Array<string | number>, raw: Record<string, unknown>, outer: CompileContext, defaults: RouteDefaults, named: boolean): CompiledCall {
  outer.problems.push(...schemaProblems(doc, validateCall, raw, path))
  const methods = METHODS.filter((m) => typeof raw[m] === 'string')
  if (methods.length !== 1) outer.problems.push(doc.problem(path, `a call names exactly one of ${METHODS.join(', ')} with its path, e.g. get: /internal/v1/users/{subject}`))
  if (named && typeof raw.name !== 'string') outer.problems.push(doc.problem(path, 'with several calls, each needs a name (used to read its result: $name.field)'))
  const each = raw.each === undefined ? undefined : perItem(doc, path, raw, outer)
  // A per-item call's templates read the element (and its index); a paged call's read $page.
  const used = new Set<string>()
  const ctx: CompileContext = {
    ...outer,
    roots: new Set([...outer.roots, ...(each ? [each.as, 'index'] : []), ...(raw.pages ? ['page'] : [])]),
    used,
  }
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
  const body = raw.body !== undefined ? compileTemplate(raw.body, [...path, 'body'], ctx) : undefined
  const pages = raw.pages ? pagesOf(doc, [...path, 'pages'], raw.pages as Record<string, unknown>, used.has('page'), outer.problems) : undefined
  return {
    ...(typeof raw.name === 'string' ? { name: raw.name } : {}),
    ...(raw.if !== undefined ? { condition: compileTemplate(raw.if, [...path, 'if'], outer) } : {}),
    ...(each ? { each } : {}),
    method: method.toUpperCase(),
    changes: method !== 'get' && raw.reads !== true,
    target,
    headers,
    ...(body ? { body } : {}),
    timeoutMs: parseDuration(raw.timeout as string | number | undefined, defaults.timeoutMs),
    exactNumbers: (raw.exactNumbers as boolean | undefined) ?? defaults.exactNumbers,
    ...(pages ? { pages } : {}),
  }
}

/** `each: $accounts.result.items, as: account, concurrency: 4`: one call per element of an earlier answer's list. */
function perItem(doc: SourceDocument, path: Array<string | number>, raw: Record<string, unknown>, ctx: CompileContext): NonNullable<CompiledCall['each']> {
  const as = typeof raw.as === 'string' ? raw.as : 'item'
  if (ctx.roots.has(as)) ctx.problems.push(doc.problem([...path, raw.as === undefined ? 'each' : 'as'], `$${as} is already a reference here; name the element with another "as"`))
  return { list: compileTemplate(raw.each, [...path, 'each'], ctx), as, concurrency: (raw.concurrency as number | undefined) ?? DEFAULT_CONCURRENCY }
}

/** Per-item calls in flight at once, unless a call says otherwise. */
const DEFAULT_CONCURRENCY = 4

function pagesOf(doc: SourceDocument, at: Array<string | number>, raw: Record<string, unknown>, placed: boolean, problems: Problem[]): OffsetPages | undefined {
  const items = pathAt(doc, [...at, 'items'], raw.items as string, problems)
  const total = typeof raw.total === 'string' ? pathAt(doc, [...at, 'total'], raw.total, problems) : undefined
  if (placed && (raw.offset !== undefined || raw.limit !== undefined)) {
    problems.push(doc.problem([...at, raw.offset !== undefined ? 'offset' : 'limit'], 'the call places $page.offset and $page.limit itself: pages.offset and pages.limit (query parameter names) do not apply', { atKey: true }))
  }
  if (!items) return undefined
  return {
    items,
    ...(total ? { total } : {}),
    ...(placed ? {} : { query: { offset: (raw.offset as string | undefined) ?? 'offset', limit: (raw.limit as string | undefined) ?? 'limit' } }),
    size: (raw.size as number | undefined) ?? 100,
    max: (raw.max as number | undefined) ?? 10_000,
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
