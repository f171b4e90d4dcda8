/**
 * What can be known about a route without running it, from the shape of its
 * templates: `paginate` must name a list the response builds; with the
 * OpenAPI document, the response must be able to meet the schema of its
 * operation for each status it can answer with, and each error rule's body
 * the error schema of its status. Start-up and `nlgw check` report these with
 * the other problems.
 */
import type { Problem } from '../config/problems.js'
import { suggest } from '../config/problems.js'
import type { SourceDocument } from '../config/yaml.js'
import { errorSchema, type Operation } from '../openapi/document.js'
import type { Conformance, Finding } from './conformance.js'
import { pathText, type PathSegment } from './path.js'
import type { CompiledRoute } from './route.js'
import { optionsOf, type Place, type Shape } from './shape.js'
import { templateShape } from './template.js'

/** `paginate` names a list this response template builds (or may build: references are not known). */
export function paginateProblems(doc: SourceDocument, at: Place, response: Shape, list: readonly PathSegment[]): Problem[] {
  let current = optionsOf(response)
  for (const [i, step] of list.entries()) {
    const next: Shape[] = []
    const keys = new Set<string>()
    for (const option of current) {
      if (option.kind === 'any' || (option.kind === 'object' && option.open)) return []
      if (typeof step === 'number' && option.kind === 'list') next.push(...optionsOf(option.item))
      if (typeof step === 'string' && option.kind === 'object') {
        const field = option.fields.get(step)
        if (field) next.push(...optionsOf(field))
        option.fields.forEach((_v, key) => keys.add(key))
      }
    }
    if (next.length === 0) {
      const hint = typeof step === 'string' ? suggest(step, keys) : undefined
      const within = i === 0 ? 'the response' : `"${pathText(list.slice(0, i))}"`
      return [doc.problem(at, `${within} this route builds has no "${step}"${hint ? ` (did you mean "${hint}"?)` : keys.size ? `; it has ${[...keys].join(', ')}` : ''}: nothing to paginate`)]
    }
    current = next
  }
  if (current.some((option) => option.kind === 'list' || option.kind === 'any')) return []
  return [doc.problem(at, `"${pathText(list)}" is not a list in the response this route builds: nothing to paginate`)]
}

/**
 * Each route's response and error rules against its operation, for one file.
 * A template in a fragment serves several routes, and a branch of it may be
 * meant for some of them only (a withdrawal fragment's IBAN branch is no
 * answer for the peer-account route, whose data never takes it): a mistake
 * there is reported only when it is one for every route that uses it.
 */
export class SpecCheck {
  /** Place → the routes whose check reached it. */
  private readonly reached = new Map<string, Set<number>>()
  /** Place → the routes it is a mistake for, and the problems (each use's, by route). */
  private readonly mistakes = new Map<string, { routes: Set<number>; problems: Array<{ route: number; problem: Problem }> }>()

  constructor(
    private readonly doc: SourceDocument,
    private readonly conformance: Conformance,
  ) {}

  route(index: number, raw: Record<string, unknown>, route: CompiledRoute, operation: Operation): void {
    const at = ['routes', index]
    const visit = (place: Place) => this.placesOf(this.reached, place).add(index)
    const record = (finding: Finding, suffix = '') => {
      const problem = this.doc.problem(finding.at, finding.message + suffix)
      const place = placeOf(problem)
      const mistake = this.mistakes.get(place) ?? { routes: new Set<number>(), problems: [] }
      mistake.routes.add(index)
      mistake.problems.push({ route: index, problem })
      this.mistakes.set(place, mistake)
    }
    if (raw.response !== undefined) {
      // The schema of each status the route can answer with; a status read from the data leaves any schema possible.
      const statuses = optionsOf(templateShape(raw.status ?? operation.successStatus, [...at, 'status']))
      const schemas = statuses.map((s) => (s.kind === 'value' && typeof s.value === 'number' ? schemaFor(operation, s.value) : undefined))
      if (schemas.every((schema) => schema !== undefined)) {
        const distinct = [...new Set(schemas)] as Array<Record<string, unknown>>
        const schema = distinct.length === 1 ? (distinct[0] as Record<string, unknown>) : { anyOf: distinct }
        for (const finding of this.conformance.check(templateShape(raw.response, [...at, 'response']), schema, visit)) record(finding)
      }
    }
    for (const rule of route.errors) {
      const schema = errorSchema(operation, rule.status)
      if (schema) for (const finding of this.conformance.check(rule.body, schema as Record<string, unknown>, visit)) record(finding, ` (in the body of a ${rule.status} error)`)
    }
  }

  /** The mistakes that are mistakes for every route their template serves. */
  problems(): Problem[] {
    return [...this.mistakes]
      .filter(([place, m]) => [...(this.reached.get(place) ?? [])].every((route) => m.routes.has(route)))
      .flatMap(([, m]) => {
        // Routes may word one mistake differently (each allows other forms there): the first route's words say it for all.
        const first = m.problems[0]?.route
        const words = m.problems.filter((p) => p.route === first).map((p) => p.problem.message)
        return m.problems.map(({ problem }) => (words.includes(problem.message) ? problem : { ...problem, message: words[0] as string }))
      })
  }

  /** Template path → where it is written (templates reached again and again, through fragments). */
  private readonly written = new Map<string, string>()

  private placesOf(map: Map<string, Set<number>>, place: Place): Set<number> {
    const path = place.join('\u0000')
    let key = this.written.get(path)
    if (key === undefined) this.written.set(path, (key = placeOf(this.doc.problem(place, ''))))
    let routes = map.get(key)
    if (!routes) map.set(key, (routes = new Set()))
    return routes
  }
}

/** Where a problem is written: one key for a fragment's node, whichever route reached it. */
function placeOf(problem: Problem): string {
  return `${problem.line}:${problem.col}:${problem.path}`
}

function schemaFor(operation: Operation, status: number): object | undefined {
  return status >= 200 && status <= 299 ? operation.response : errorSchema(operation, status)
}
