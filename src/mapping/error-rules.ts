/**
 * Error rules: which backend answers are errors, and the Network Link error
 * each one becomes. A rule holds when every condition of its `when` does —
 * `status`, references compared with values, `if` — whatever the status, so
 * `{ when: { $body.ok: false } }` catches an error inside a 200 and
 * `{ when: { status: 404 } }` a plain 404. The first rule that holds answers.
 */
import { dotted, type Problem } from '../config/problems.js'
import type { SourceDocument } from '../config/yaml.js'
import type { ErrorType } from '../errors.js'
import type { Shape } from './shape.js'
import { compileReference, compileTemplate, templateShape, truthy, type CompileContext, type Evaluate, type Scope } from './template.js'

export interface CompiledErrorRule {
  matches: (status: number, scope: Scope) => boolean
  /** The rule can hold for a 2xx answer: it names no status, or a 2xx one. */
  onSuccess: boolean
  status: number
  errorType: ErrorType
  message: Evaluate
  propertyName: Evaluate
  requestPart: Evaluate
  /** What `when` asks, for finding rules that can never hold. */
  when: RuleConditions
  /** The shape of the error body it makes, for checking it against the spec's error schema. */
  body: Shape
  /** Where the rule is written. */
  at: Array<string | number>
}

interface RuleConditions {
  /** The statuses the rule accepts; undefined when it names none (any status). */
  statuses?: ReadonlySet<number>
  /** Reference → the values it may have (as text). */
  values: ReadonlyMap<string, ReadonlySet<string>>
  /** The `if` condition as written, when there is one. */
  condition?: string
}

const DEFAULT_STATUS: Partial<Record<ErrorType, number>> = { 'not-found': 404, 'internal-error': 500, unauthorized: 401 }

/** Every status a backend can answer with: what a status condition such as `4xx` is expanded over. */
const STATUSES = Array.from({ length: 500 }, (_, i) => 100 + i)
const isSuccess = (status: number) => status >= 200 && status <= 299

/** The statuses `404`, `[409, 422]` or `4xx` stand for; the same lists recur in every route, worked out once. */
const expanded = new Map<string, ReadonlySet<number>>()
function statusesOf(wanted: string[]): ReadonlySet<number> {
  const key = wanted.join(',')
  let statuses = expanded.get(key)
  if (!statuses) {
    const patterns = wanted.map((w) => new RegExp(`^${w.replace(/x/gi, '\\d')}$`))
    expanded.set(key, (statuses = new Set(STATUSES.filter((s) => patterns.some((p) => p.test(String(s)))))))
  }
  return statuses
}

/**
 * `when: { status: 404 | [409, 422] | 4xx, $body.error.code: X | [X, Y], if: condition }`:
 * every listed condition must hold.
 */
export function compileErrorRule(doc: SourceDocument, path: Array<string | number>, raw: Record<string, unknown>, ctx: CompileContext): CompiledErrorRule {
  const checks: Array<(status: number, scope: Scope) => boolean> = []
  let statuses: ReadonlySet<number> | undefined
  const values = new Map<string, Set<string>>()
  let condition: string | undefined
  for (const [key, expected] of Object.entries((raw.when as Record<string, unknown>) ?? {})) {
    const wanted = (Array.isArray(expected) ? expected : [expected]).map(String)
    if (key === 'status') {
      if (wanted.some((w) => !/^[1-5][0-9x]{2}$/i.test(w))) ctx.problems.push(doc.problem([...path, 'when', key], 'status must be a code such as 404, a class such as 4xx, or a list of them'))
      const accepted = statusesOf(wanted)
      statuses = accepted
      checks.push((status) => accepted.has(status))
    } else if (key === 'if') {
      const holds = compileTemplate(expected, [...path, 'when', key], ctx)
      condition = JSON.stringify(expected)
      checks.push((_status, scope) => truthy(holds(scope)))
    } else if (key.startsWith('$')) {
      const value = compileReference(key, [...path, 'when', key], ctx)
      values.set(key, new Set(wanted))
      checks.push((_status, scope) => {
        const v = value(scope)
        return v !== undefined && v !== null && wanted.includes(String(v))
      })
    } else {
      ctx.problems.push(doc.problem([...path, 'when', key], `a condition is status, a reference such as $body.error.code, or if, not "${key}"`, { atKey: true }))
    }
  }
  const errorType = raw.errorType as ErrorType
  return {
    matches: (status, scope) => checks.every((check) => check(status, scope)),
    onSuccess: statuses === undefined || [...statuses].some(isSuccess),
    status: (raw.status as number | undefined) ?? DEFAULT_STATUS[errorType] ?? 400,
    errorType,
    message: compileTemplate(raw.message ?? 'Request failed', [...path, 'message'], ctx),
    propertyName: compileTemplate(raw.propertyName, [...path, 'propertyName'], ctx),
    requestPart: compileTemplate(raw.requestPart, [...path, 'requestPart'], ctx),
    when: { ...(statuses ? { statuses } : {}), values, ...(condition !== undefined ? { condition } : {}) },
    body: {
      kind: 'object',
      fields: new Map([
        ['message', { kind: 'string', at: [...path, 'message'] }],
        ['errorType', { kind: 'value', value: errorType, at: [...path, 'errorType'] }],
        ...(['propertyName', 'requestPart'] as const).filter((key) => raw[key] !== undefined).map((key) => [key, templateShape(raw[key], [...path, key])] as [string, Shape]),
      ]),
      open: false,
      at: path,
    },
    at: path,
  }
}

/** Whenever `later` holds, `earlier` does too: `later`, tried after it, can never answer. */
function covers(earlier: RuleConditions, later: RuleConditions): boolean {
  if (earlier.condition !== undefined && earlier.condition !== later.condition) return false
  if (earlier.statuses && ![...(later.statuses ?? STATUSES)].every((s) => (earlier.statuses as ReadonlySet<number>).has(s))) return false
  for (const [reference, accepted] of earlier.values) {
    const asked = later.values.get(reference)
    if (!asked || ![...asked].every((v) => accepted.has(v))) return false
  }
  return true
}

/** Rules of one list that an earlier rule of the same list always answers first. */
export function unreachableRules(doc: SourceDocument, rules: readonly CompiledErrorRule[]): Problem[] {
  const problems: Problem[] = []
  rules.forEach((rule, i) => {
    const earlier = rules.slice(0, i).find((e) => covers(e.when, rule.when))
    if (!earlier) return
    const line = doc.problem(earlier.at, '').line
    problems.push(doc.problem([...rule.at, 'when'], `this rule can never answer: the rule before it at ${dotted(earlier.at)}${line ? ` (line ${line})` : ''} holds whenever it does; put the narrower rule first`))
  })
  return problems
}
