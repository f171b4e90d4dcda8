/**
 * The transform language: a YAML value compiled once into a closure.
 *
 *   plain values        constants            "active", 42, true, null
 *   $root.path          a reference          $body.wallets[0].currency
 *   "text {$ref} text"  a string template    "{$item.first} {$item.last}"
 *   { key: template }   an object; keys whose value is absent (missing or null) are left out
 *   [ template, … ]     a list
 *   { $op: …, … }       an operator (see OPERATORS)
 *
 * Compilation checks every reference against the roots in scope and the
 * route's parameters, and reports problems at their file:line:col with a
 * suggestion. Evaluation is synchronous over a mutable Scope; nothing is
 * parsed per request.
 */
import { randomUUID } from 'node:crypto'
import { dotted, suggest, type Problem } from '../config/problems.js'
import type { SourceDocument } from '../config/yaml.js'
import { DecimalError, toDecimalString, toMinorUnits } from './decimal.js'
import { ExactNumber, RawNumber } from './json.js'
import { FORBIDDEN_KEYS, parseSteps, type DynamicStep, type PathSegment } from './path.js'
import { ABSENT, ANY, merge, union, type Shape } from './shape.js'

/** ECMAScript's time value limit (100,000,000 days either side of the epoch). */
const MAX_DATE_MS = 8.64e15

/** The values references read: `params`, `query`, `body`, `subject`, `item`, call results… */
export type Scope = Record<string, unknown>
export type Evaluate = (scope: Scope) => unknown

/** A failure while evaluating a mapping: the backend sent something the mapping did not expect. */
export class MappingError extends Error {
  constructor(
    readonly at: string,
    message: string,
  ) {
    super(`${at}: ${message}`)
    this.name = 'MappingError'
  }
}

export interface CompileContext {
  doc: SourceDocument
  problems: Problem[]
  /** Roots a reference may start with here. */
  roots: ReadonlySet<string>
  /** The route's path parameters, for checking `$params.x`; unchecked when absent (file-wide defaults). */
  params?: ReadonlySet<string> | undefined
  /** Names bound by `$each`/`$find` (`$as`) or `$let` around this place; an inner `$let` may bind them again. */
  locals?: ReadonlySet<string>
  /** Collects the roots references here read (a paged call that places `$page` itself). */
  used?: Set<string>
}

type Path = Array<string | number>

const REFERENCE = /^\$([A-Za-z_]\w*)(.*)$/
const INTERPOLATION = /\{(\$[^{}]+)\}/g

const constant =
  (value: unknown): Evaluate =>
  () =>
    value

function problem(ctx: CompileContext, path: Path, message: string, atKey = false): Evaluate {
  ctx.problems.push(ctx.doc.problem(path, message, { atKey }))
  return constant(undefined)
}

export function compileTemplate(value: unknown, path: Path, ctx: CompileContext): Evaluate {
  if (typeof value === 'string') return compileString(value, path, ctx)
  if (Array.isArray(value)) return compileList(value, path, ctx)
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value)
    const operator = keys.find((k) => k.startsWith('$'))
    return operator === undefined ? compileObject(value as Record<string, unknown>, path, ctx) : compileOperator(operator, value as Record<string, unknown>, path, ctx)
  }
  return constant(value)
}

function compileString(text: string, path: Path, ctx: CompileContext): Evaluate {
  if (text.startsWith('$$')) return constant(text.slice(1))
  if (text.startsWith('$')) return compileReference(text, path, ctx)
  if (!text.includes('{$')) return constant(text)
  const parts: Array<string | Evaluate> = []
  let last = 0
  for (const match of text.matchAll(INTERPOLATION)) {
    if (match.index > last) parts.push(text.slice(last, match.index))
    parts.push(compileReference(match[1] as string, path, ctx))
    last = match.index + match[0].length
  }
  if (last < text.length) parts.push(text.slice(last))
  // Every part must be present: a half-filled id or message is worse than none.
  return (scope) => {
    let out = ''
    for (const part of parts) {
      if (typeof part === 'string') out += part
      else {
        const v = part(scope)
        if (v === undefined || v === null) return undefined
        out += stringOf(v)
      }
    }
    return out
  }
}

export function compileReference(text: string, path: Path, ctx: CompileContext): Evaluate {
  const m = REFERENCE.exec(text)
  const steps = m ? parseSteps(m[2] as string, true) : undefined
  if (!m || !steps) return problem(ctx, path, `"${text}" is not a reference: write $root.field.sub, $root.list[0] or $root.list[$index] (a literal starting with $ is written $$…)`)
  const root = m[1] as string
  if (!ctx.roots.has(root)) {
    const hint = suggest(root, ctx.roots)
    return problem(ctx, path, `unknown reference $${root}${hint ? ` (did you mean $${hint}?)` : ''}; here you can use ${[...ctx.roots].map((r) => `$${r}`).join(', ')}`)
  }
  if (steps.some((s) => typeof s === 'string' && FORBIDDEN_KEYS.has(s))) return problem(ctx, path, `"${text}" reads a reserved property`)
  ctx.used?.add(root)
  const [first] = steps
  if (root === 'params' && ctx.params && typeof first === 'string' && !ctx.params.has(first)) {
    const hint = suggest(first, ctx.params)
    return problem(
      ctx,
      path,
      `the route has no path parameter "${first}"${hint ? ` (did you mean "${hint}"?)` : ''}${ctx.params.size ? `; it has ${[...ctx.params].join(', ')}` : ''}`,
    )
  }
  if (steps.every((s) => typeof s !== 'object')) return getter(root, steps as PathSegment[])
  const resolved = steps.map((s) => (typeof s === 'object' ? compileReference((s as DynamicStep).reference, path, ctx) : s))
  return dynamicGetter(root, resolved)
}

/** Property access unrolled for the common depths; no per-call allocation. */
function getter(root: string, segments: PathSegment[]): Evaluate {
  const [a, b, c] = segments
  switch (segments.length) {
    case 0:
      return (s) => s[root]
    case 1:
      return (s) => (s[root] as Record<string | number, unknown> | null | undefined)?.[a as string]
    case 2:
      return (s) => (s[root] as Record<string | number, Record<string | number, unknown> | null> | null | undefined)?.[a as string]?.[b as string]
    case 3:
      return (s) => (s[root] as Record<string | number, Record<string | number, Record<string | number, unknown> | null> | null> | null | undefined)?.[a as string]?.[b as string]?.[c as string]
    default:
      return (s) => {
        let v = s[root]
        for (const seg of segments) {
          if (v === null || v === undefined) return undefined
          v = (v as Record<string | number, unknown>)[seg]
        }
        return v
      }
  }
}

/** `$balances[$index]`, `$rates[$item.currency]`: a step read from another reference, as an index or a key. */
function dynamicGetter(root: string, steps: Array<PathSegment | Evaluate>): Evaluate {
  return (s) => {
    let v = s[root]
    for (const step of steps) {
      if (v === null || v === undefined) return undefined
      const key = typeof step === 'function' ? stepKey(step(s)) : step
      // Own properties only: a key from the data must not reach `toString` and the like.
      if (key === undefined || !Object.hasOwn(v as object, key)) return undefined
      v = (v as Record<string | number, unknown>)[key]
    }
    return v
  }
}

function stepKey(v: unknown): PathSegment | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined
  if (v instanceof ExactNumber) return /^\d+$/.test(v.text) ? Number(v.text) : undefined
  return typeof v === 'string' && !FORBIDDEN_KEYS.has(v) ? v : undefined
}

/** Network Link has no nullable fields: a backend's null is an absent value. */
const present = (v: unknown): boolean => v !== undefined && v !== null

function compileList(items: unknown[], path: Path, ctx: CompileContext): Evaluate {
  const compiled = items.map((item, i) => compileTemplate(item, [...path, i], ctx))
  return (scope) => {
    const out: unknown[] = []
    for (const item of compiled) {
      const v = item(scope)
      if (present(v)) out.push(v)
    }
    return out
  }
}

function compileFields(value: Record<string, unknown>, path: Path, ctx: CompileContext, skip: (key: string) => boolean): Array<[string, Evaluate]> {
  const fields: Array<[string, Evaluate]> = []
  for (const [key, child] of Object.entries(value)) {
    if (skip(key)) continue
    if (FORBIDDEN_KEYS.has(key)) {
      problem(ctx, [...path, key], `"${key}" cannot be used as a key`, true)
      continue
    }
    fields.push([key, compileTemplate(child, [...path, key], ctx)])
  }
  return fields
}

function objectOf(fields: Array<[string, Evaluate]>): Evaluate {
  return (scope) => {
    const out: Record<string, unknown> = {}
    for (const [key, evaluate] of fields) {
      const v = evaluate(scope)
      if (present(v)) out[key] = v
    }
    return out
  }
}

function compileObject(value: Record<string, unknown>, path: Path, ctx: CompileContext): Evaluate {
  return objectOf(compileFields(value, path, ctx, () => false))
}

// ── operators ────────────────────────────────────────────────────────────

interface OperatorSpec {
  /** Option keys besides the operator itself; `*` lets any other key through (the operator uses them). */
  options: readonly string[]
  compile(node: Record<string, unknown>, path: Path, ctx: CompileContext, at: string): Evaluate
  /** What it produces, known without the data (the static check against the spec). */
  shape(node: Record<string, unknown>, path: Path): Shape
}

const known =
  (kind: 'string' | 'number' | 'boolean') =>
  (_node: Record<string, unknown>, path: Path): Shape => ({ kind, at: path })

function within(ctx: CompileContext, ...roots: string[]): CompileContext {
  return { ...ctx, roots: new Set([...ctx.roots, ...roots]), locals: new Set([...(ctx.locals ?? []), ...roots]) }
}

function asName(node: Record<string, unknown>, path: Path, ctx: CompileContext): string {
  const as = node.$as ?? 'item'
  if (typeof as !== 'string' || !/^[A-Za-z_]\w*$/.test(as)) {
    problem(ctx, [...path, '$as'], '$as must be a name such as wallet')
    return 'item'
  }
  return as
}

/**
 * Runs `visit` with `name` (and `index`) bound to each element in turn until it returns false,
 * restoring the scope after. Built once per template; what one evaluation collects travels in
 * `into`, so evaluating allocates no closures.
 */
function iterate<T>(list: Evaluate, name: string, at: string, visit: (scope: Scope, element: unknown, into: T) => boolean): (scope: Scope, into: T) => void {
  return (scope, into) => {
    const items = list(scope)
    if (items === undefined || items === null) return
    if (!Array.isArray(items)) throw new MappingError(at, `expected a list, got ${describe(items)}`)
    const savedItem = scope[name]
    const savedIndex = scope.index
    try {
      for (let i = 0; i < items.length; i++) {
        scope[name] = items[i]
        scope.index = i
        if (!visit(scope, items[i], into)) break
      }
    } finally {
      scope[name] = savedItem
      scope.index = savedIndex
    }
  }
}

const OPERATORS: Record<string, OperatorSpec> = {
  /** `$each: list` with the item template as sibling keys, or `$value: template` for non-object items. */
  $each: {
    options: ['$as', '$where', '$value', '*'],
    shape: (node, path) => ({
      kind: 'list',
      item: node.$value !== undefined ? templateShape(node.$value, [...path, '$value']) : objectShape(node, path, (k) => k.startsWith('$')),
      at: path,
    }),
    compile(node, path, ctx, at) {
      const name = asName(node, path, ctx)
      const list = compileTemplate(node.$each, [...path, '$each'], ctx)
      const inner = within(ctx, name, 'index')
      const where = node.$where === undefined ? undefined : compileTemplate(node.$where, [...path, '$where'], inner)
      const item = node.$value !== undefined ? compileTemplate(node.$value, [...path, '$value'], inner) : objectOf(compileFields(node, path, inner, (k) => k.startsWith('$')))
      const collect = iterate<unknown[]>(list, name, at, (s, _element, out) => {
        if (where === undefined || truthy(where(s))) {
          const v = item(s)
          if (present(v)) out.push(v)
        }
        return true
      })
      return (scope) => {
        const out: unknown[] = []
        collect(scope, out)
        return out
      }
    },
  },
  /** `$find: list` + `$where: condition`: the first element that matches. */
  $find: {
    options: ['$as', '$where'],
    shape: () => ANY,
    compile(node, path, ctx, at) {
      const name = asName(node, path, ctx)
      const list = compileTemplate(node.$find, [...path, '$find'], ctx)
      if (node.$where === undefined) return problem(ctx, path, '$find needs $where')
      const where = compileTemplate(node.$where, [...path, '$where'], within(ctx, name, 'index'))
      const search = iterate<{ found?: unknown }>(list, name, at, (s, element, result) => {
        if (!truthy(where(s))) return true
        result.found = element
        return false
      })
      return (scope) => {
        const result: { found?: unknown } = {}
        search(scope, result)
        return result.found
      }
    },
  },
  /** `$switch: value` with one key per case and `$default`; no match and no default is an error. */
  $switch: {
    options: ['$default', '*'],
    shape: (node, path) => union(Object.entries(node).flatMap(([key, value]) => (key === '$switch' ? [] : [templateShape(value, [...path, key])]))),
    compile(node, path, ctx, at) {
      const subject = compileTemplate(node.$switch, [...path, '$switch'], ctx)
      const cases = new Map(compileFields(node, path, ctx, (k) => k.startsWith('$')))
      const fallback = '$default' in node ? compileTemplate(node.$default, [...path, '$default'], ctx) : undefined
      return (scope) => {
        const v = subject(scope)
        const chosen = v === undefined || v === null ? undefined : cases.get(stringOf(v))
        if (chosen) return chosen(scope)
        if (fallback) return fallback(scope)
        throw new MappingError(at, `no case for ${describe(v)} (cases: ${[...cases.keys()].join(', ')}) and no $default`)
      }
    },
  },
  /**
   * `$let: { asset: $item.debit }, in: template`: the template with those names bound, so one
   * fragment (a YAML anchor) serves values found in different places. Absent when a bound value is.
   * A name may hide an outer `$let`/`$as` name, never a request root or a call's name.
   */
  $let: {
    options: ['in'],
    shape: (node, path) => templateShape(node.in, [...path, 'in']),
    compile(node, path, ctx) {
      const bindings = node.$let
      if (bindings === null || typeof bindings !== 'object' || Array.isArray(bindings) || Object.keys(bindings).length === 0) {
        return problem(ctx, [...path, '$let'], '$let takes names and their values, e.g. $let: { asset: $item.debit }, in: template')
      }
      if (node.in === undefined) return problem(ctx, path, '$let needs in: the template that reads the names')
      const names: string[] = []
      const values: Evaluate[] = []
      for (const [name, value] of Object.entries(bindings)) {
        if (!/^[A-Za-z_]\w*$/.test(name) || FORBIDDEN_KEYS.has(name)) problem(ctx, [...path, '$let', name], `"${name}" cannot be a name: use letters, digits and _`, true)
        else if (ctx.roots.has(name) && !ctx.locals?.has(name)) problem(ctx, [...path, '$let', name], `$${name} is already a reference here; choose another name`, true)
        else {
          names.push(name)
          values.push(compileTemplate(value, [...path, '$let', name], ctx))
        }
      }
      const inner = compileTemplate(node.in, [...path, 'in'], within(ctx, ...names))
      // Loops, not map/every/forEach: this runs once per list element in most mappings.
      return (scope) => {
        const bound = new Array<unknown>(names.length)
        for (let i = 0; i < names.length; i++) {
          bound[i] = (values[i] as Evaluate)(scope)
          if (!present(bound[i])) return undefined
        }
        const saved = new Array<unknown>(names.length)
        try {
          for (let i = 0; i < names.length; i++) {
            saved[i] = scope[names[i] as string]
            scope[names[i] as string] = bound[i]
          }
          return inner(scope)
        } finally {
          for (let i = 0; i < names.length; i++) scope[names[i] as string] = saved[i]
        }
      }
    },
  },
  $if: {
    options: ['then', 'else'],
    shape: (node, path) => union([templateShape(node.then, [...path, 'then']), templateShape(node.else, [...path, 'else'])]),
    compile(node, path, ctx) {
      const condition = compileTemplate(node.$if, [...path, '$if'], ctx)
      const then = compileTemplate(node.then, [...path, 'then'], ctx)
      const otherwise = compileTemplate(node.else, [...path, 'else'], ctx)
      return (scope) => (truthy(condition(scope)) ? then(scope) : otherwise(scope))
    },
  },
  /** The first value that is present: `$coalesce: [$item.nickname, $item.name, "Main"]`. */
  $coalesce: {
    options: [],
    shape: (node, path) => (Array.isArray(node.$coalesce) ? union(node.$coalesce.map((c, i) => templateShape(c, [...path, '$coalesce', i]))) : ANY),
    compile(node, path, ctx) {
      if (!Array.isArray(node.$coalesce)) return problem(ctx, path, '$coalesce takes a list')
      const candidates = node.$coalesce.map((c, i) => compileTemplate(c, [...path, '$coalesce', i], ctx))
      return (scope) => {
        for (const candidate of candidates) {
          const v = candidate(scope)
          if (v !== undefined && v !== null) return v
        }
        return undefined
      }
    },
  },
  /** Objects merged left to right: `$merge: [$item.details, { type: fiat }]`. */
  $merge: {
    options: [],
    shape: (node, path) => (Array.isArray(node.$merge) ? merge(node.$merge.map((c, i) => templateShape(c, [...path, '$merge', i])), path) : ANY),
    compile(node, path, ctx, at) {
      if (!Array.isArray(node.$merge)) return problem(ctx, path, '$merge takes a list of objects')
      const parts = node.$merge.map((c, i) => compileTemplate(c, [...path, '$merge', i], ctx))
      return (scope) => {
        const out: Record<string, unknown> = {}
        for (const part of parts) {
          const v = part(scope)
          if (v === undefined || v === null) continue
          if (typeof v !== 'object' || Array.isArray(v)) throw new MappingError(at, `cannot merge ${describe(v)}`)
          for (const [key, field] of Object.entries(v)) if (!FORBIDDEN_KEYS.has(key) && present(field)) out[key] = field
        }
        return out
      }
    },
  },
  /** Exact decimal string; with `scale`, from integer minor units. */
  $decimal: {
    options: ['scale'],
    shape: known('string'),
    compile(node, path, ctx, at) {
      const value = compileTemplate(node.$decimal, [...path, '$decimal'], ctx)
      const scale = compileTemplate(node.scale ?? 0, [...path, 'scale'], ctx)
      return (scope) => {
        const v = value(scope)
        if (v === undefined || v === null) return undefined
        return money(at, toDecimalString, v, Number(scale(scope)))
      }
    },
  },
  /** Integer minor units from a decimal; refuses values with more places than `scale`. */
  $minor: {
    options: ['scale', 'as'],
    shape: (node, path) => ({ kind: node.as === 'string' ? 'string' : 'number', at: path }),
    compile(node, path, ctx, at) {
      const value = compileTemplate(node.$minor, [...path, '$minor'], ctx)
      const scale = compileTemplate(node.scale, [...path, 'scale'], ctx)
      if (node.scale === undefined) problem(ctx, path, '$minor needs scale (the number of decimal places of a minor unit)')
      const asString = node.as === 'string'
      if (node.as !== undefined && node.as !== 'string' && node.as !== 'number') problem(ctx, [...path, 'as'], 'as must be number or string')
      return (scope) => {
        const v = value(scope)
        if (v === undefined || v === null) return undefined
        const minor = money(at, toMinorUnits, v, Number(scale(scope)))
        return asString ? minor.toString() : new RawNumber(minor.toString())
      }
    },
  },
  /** A JSON number written exactly as the decimal it comes from. */
  $number: {
    options: [],
    shape: known('number'),
    compile(node, path, ctx, at) {
      const value = compileTemplate(node.$number, [...path, '$number'], ctx)
      return (scope) => {
        const v = value(scope)
        if (v === undefined || v === null) return undefined
        return new RawNumber(money(at, toDecimalString, v, 0))
      }
    },
  },
  $string: {
    options: [],
    shape: known('string'),
    compile(node, path, ctx) {
      const value = compileTemplate(node.$string, [...path, '$string'], ctx)
      return (scope) => {
        const v = value(scope)
        return v === undefined || v === null ? undefined : stringOf(v)
      }
    },
  },
  /** Dates between epoch milliseconds or seconds and ISO 8601: `{ $date: $item.created_ms, from: ms, to: iso }`. */
  $date: {
    options: ['from', 'to'],
    shape: (node, path) => ({ kind: node.to === 'ms' || node.to === 's' ? 'number' : 'string', at: path }),
    compile(node, path, ctx, at) {
      const value = compileTemplate(node.$date, [...path, '$date'], ctx)
      const from = node.from ?? 'auto'
      const to = node.to ?? 'iso'
      if (!['auto', 'ms', 's', 'iso'].includes(from as string)) problem(ctx, [...path, 'from'], 'from must be ms, s or iso')
      if (!['ms', 's', 'iso'].includes(to as string)) problem(ctx, [...path, 'to'], 'to must be ms, s or iso')
      return (scope) => {
        const v = value(scope)
        if (v === undefined || v === null) return undefined
        const ms = from === 's' ? Number(v) * 1000 : from === 'iso' || (from === 'auto' && typeof v === 'string' && !/^\d+$/.test(v)) ? Date.parse(String(v)) : Number(v)
        // ±8.64e15 ms is the range a Date holds; past it toISOString throws (a nanosecond timestamp, say).
        if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) throw new MappingError(at, `${describe(v)} is not a date`)
        return to === 'iso' ? new Date(ms).toISOString() : to === 's' ? Math.floor(ms / 1000) : ms
      }
    },
  },
  $upper: stringOp('$upper', (s) => s.toUpperCase()),
  $lower: stringOp('$lower', (s) => s.toLowerCase()),
  /** A value taken as is: `{ $literal: "$not-a-reference" }`. */
  $literal: {
    options: [],
    shape: (node, path) => constantShape(node.$literal, path),
    compile: (node) => constant(node.$literal),
  },
  /** A fresh random UUID, e.g. an id for a record the backend does not number. */
  $uuid: {
    options: [],
    shape: known('string'),
    compile: () => () => randomUUID(),
  },
  $eq: comparison('$eq', (a, b) => same(a, b)),
  $ne: comparison('$ne', (a, b) => !same(a, b)),
  /** `$in: [value, [a, b, c]]`. */
  $in: {
    options: [],
    shape: known('boolean'),
    compile(node, path, ctx) {
      const args = node.$in
      if (!Array.isArray(args) || args.length !== 2 || !Array.isArray(args[1])) return problem(ctx, path, '$in takes [value, [candidates…]]')
      const value = compileTemplate(args[0], [...path, '$in', 0], ctx)
      const candidates = (args[1] as unknown[]).map((c, i) => compileTemplate(c, [...path, '$in', 1, i], ctx))
      return (scope) => {
        const v = value(scope)
        return candidates.some((c) => same(v, c(scope)))
      }
    },
  },
  $exists: {
    options: [],
    shape: known('boolean'),
    compile(node, path, ctx) {
      const value = compileTemplate(node.$exists, [...path, '$exists'], ctx)
      return (scope) => {
        const v = value(scope)
        return v !== undefined && v !== null
      }
    },
  },
  $not: {
    options: [],
    shape: known('boolean'),
    compile(node, path, ctx) {
      const value = compileTemplate(node.$not, [...path, '$not'], ctx)
      return (scope) => !truthy(value(scope))
    },
  },
  $and: logical('$and', (values) => values.every(Boolean)),
  $or: logical('$or', (values) => values.some(Boolean)),
}

export const OPERATOR_NAMES = Object.keys(OPERATORS)

function stringOp(name: string, fn: (s: string) => string): OperatorSpec {
  return {
    options: [],
    shape: known('string'),
    compile(node, path, ctx) {
      const value = compileTemplate(node[name], [...path, name], ctx)
      return (scope) => {
        const v = value(scope)
        return v === undefined || v === null ? undefined : fn(stringOf(v))
      }
    },
  }
}

function comparison(name: string, test: (a: unknown, b: unknown) => boolean): OperatorSpec {
  return {
    options: [],
    shape: known('boolean'),
    compile(node, path, ctx) {
      const args = node[name]
      if (!Array.isArray(args) || args.length !== 2) return problem(ctx, path, `${name} takes two values: ${name}: [a, b]`)
      const [a, b] = args.map((arg, i) => compileTemplate(arg, [...path, name, i], ctx)) as [Evaluate, Evaluate]
      return (scope) => test(a(scope), b(scope))
    },
  }
}

function logical(name: string, combine: (values: boolean[]) => boolean): OperatorSpec {
  return {
    options: [],
    shape: known('boolean'),
    compile(node, path, ctx) {
      const args = node[name]
      if (!Array.isArray(args)) return problem(ctx, path, `${name} takes a list of conditions`)
      const conditions = args.map((arg, i) => compileTemplate(arg, [...path, name, i], ctx))
      return (scope) => combine(conditions.map((c) => truthy(c(scope))))
    },
  }
}

function compileOperator(operator: string, node: Record<string, unknown>, path: Path, ctx: CompileContext): Evaluate {
  const spec = OPERATORS[operator]
  if (!spec) {
    const hint = suggest(operator, OPERATOR_NAMES)
    return problem(ctx, [...path, operator], `unknown operator ${operator}${hint ? ` (did you mean ${hint}?)` : ''}`, true)
  }
  const open = spec.options.includes('*')
  for (const key of Object.keys(node)) {
    if (key === operator || spec.options.includes(key) || (open && !key.startsWith('$'))) continue
    const hint = suggest(key, spec.options.filter((o) => o !== '*'))
    const others = Object.keys(node).filter((k) => k.startsWith('$') && OPERATORS[k])
    problem(
      ctx,
      [...path, key],
      others.length > 1 ? `one operator per object: ${others.join(' and ')} cannot be combined here` : `${operator} does not take "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
      true,
    )
  }
  return spec.compile(node, path, ctx, dotted(path))
}

// ── values ───────────────────────────────────────────────────────────────

// ── shapes ───────────────────────────────────────────────────────────────

/**
 * The shape of a template that compiled without problems: what it can
 * produce, read the way compileTemplate reads it.
 */
export function templateShape(value: unknown, path: Path): Shape {
  if (typeof value === 'string') {
    if (value.startsWith('$$')) return { kind: 'value', value: value.slice(1), at: path }
    if (value.startsWith('$')) return ANY
    return value.includes('{$') ? { kind: 'string', at: path } : { kind: 'value', value, at: path }
  }
  if (Array.isArray(value)) return { kind: 'list', item: value.length ? union(value.map((v, i) => templateShape(v, [...path, i]))) : ANY, at: path }
  if (value !== null && typeof value === 'object') {
    const operator = Object.keys(value).find((k) => k.startsWith('$'))
    if (operator === undefined) return objectShape(value as Record<string, unknown>, path, () => false)
    return OPERATORS[operator]?.shape(value as Record<string, unknown>, path) ?? ANY
  }
  return constantShape(value, path)
}

function objectShape(value: Record<string, unknown>, path: Path, skip: (key: string) => boolean): Shape {
  const fields = new Map<string, Shape>()
  for (const [key, child] of Object.entries(value)) if (!skip(key) && !FORBIDDEN_KEYS.has(key)) fields.set(key, templateShape(child, [...path, key]))
  return { kind: 'object', fields, open: false, at: path }
}

function constantShape(value: unknown, path: Path): Shape {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return { kind: 'value', value, at: path }
  return value === undefined || value === null ? ABSENT : ANY
}


/** A conversion whose DecimalError is this template's MappingError; no closure per call. */
function money<T>(at: string, convert: (value: unknown, scale: number) => T, value: unknown, scale: number): T {
  try {
    return convert(value, scale)
  } catch (err) {
    if (err instanceof DecimalError) throw new MappingError(at, err.message)
    throw err
  }
}

/** Exact numbers compare and print by their text; everything else as JSON would show it. */
function stringOf(v: unknown): string {
  if (typeof v === 'string') return v
  if (v instanceof ExactNumber) return v.text
  if (typeof v === 'number') return Number.isSafeInteger(v) || !Number.isFinite(v) ? String(v) : toDecimalString(v)
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null)
  if (typeof a === 'object' || typeof b === 'object') return a instanceof ExactNumber || b instanceof ExactNumber ? stringOf(a) === stringOf(b) : false
  return stringOf(a) === stringOf(b)
}

/** Conditions are true unless absent, null, false, 0 or "". */
export function truthy(v: unknown): boolean {
  return v !== undefined && v !== null && v !== false && v !== 0 && v !== ''
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing'
  if (Array.isArray(v)) return 'a list'
  if (v instanceof ExactNumber) return v.text
  const text = JSON.stringify(v)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
