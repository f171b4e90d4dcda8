/**
 * `METHOD /path/{param}` route templates (as mapping files, the platform
 * signature routes and the outbound allow-list write them), matched against
 * the decoded segments of a canonical request target, never against a raw
 * URL. A `{param}` is one whole segment; a trailing `/**` matches the path
 * and anything below it; `*` as the method matches any. Where several
 * templates match, a literal segment beats a parameter and a parameter beats
 * `/**`, position by position (as find-my-way ranks static routes first), then
 * a named method beats `*` and an exact template beats a subtree, so
 * `/accounts/{accountId}/transfers/withdrawals/blockchain` is never taken for
 * `/accounts/{accountId}/transfers/withdrawals/{id}`.
 */
export interface RouteTemplate {
  /** As written, e.g. `GET /accounts/{accountId}`: labels metrics, keys mappings. */
  key: string
  method: string
  /** The path part of the key. */
  path: string
  /** Each segment: a literal, or the name of the parameter it binds. */
  parts: ReadonlyArray<{ literal: string } | { param: string }>
  subtree: boolean
}

export interface RouteMatch {
  template: RouteTemplate
  /** Decoded parameter values by name. */
  params: Record<string, string>
}

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

/** `GET /a/{b}` → method and path; the one place a route key is split. */
export function splitRouteKey(key: string): { method: string; path: string } {
  const space = key.indexOf(' ')
  return { method: key.slice(0, space).toUpperCase(), path: key.slice(space + 1) }
}

export function routeKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`
}

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/

/** The parameter names of a path template, in order. */
export function templateParams(path: string): string[] {
  return path.split('/').flatMap((segment) => PARAM.exec(segment)?.[1] ?? [])
}

export function compileTemplate(key: string): RouteTemplate {
  const { method, path } = splitRouteKey(key)
  const subtree = path.endsWith('/**')
  const body = subtree ? path.slice(0, -3) : path
  const parts = body
    .split('/')
    .slice(1)
    .filter((segment, i, all) => segment !== '' || i < all.length - 1)
    .map((segment) => {
      const param = PARAM.exec(segment)?.[1]
      return param === undefined ? { literal: segment } : { param }
    })
  return { key, method, path, parts, subtree }
}

/** Lower is more specific: literal, parameter, then whatever `/**` takes. */
function rank(template: RouteTemplate, position: number): number {
  const part = template.parts[position]
  return part === undefined ? 2 : 'literal' in part ? 0 : 1
}

function bind(template: RouteTemplate, segments: readonly string[]): Record<string, string> | undefined {
  const { parts } = template
  if (template.subtree ? segments.length < parts.length : segments.length !== parts.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as { literal: string } | { param: string }
    const segment = segments[i] as string
    if ('literal' in part) {
      if (part.literal !== segment) return undefined
    } else params[part.param] = segment
  }
  return params
}

export class RouteTable {
  readonly templates: readonly RouteTemplate[]
  private readonly byMethod = new Map<string, RouteTemplate[]>()
  private readonly anyMethod: RouteTemplate[] = []

  constructor(keys: Iterable<string>) {
    this.templates = [...keys].map(compileTemplate)
    for (const template of this.templates) {
      if (template.method === '*') this.anyMethod.push(template)
      else this.byMethod.set(template.method, [...(this.byMethod.get(template.method) ?? []), template])
    }
  }

  /** The most specific template for this method and these decoded segments. */
  match(method: string, segments: readonly string[]): RouteMatch | undefined {
    let best: RouteMatch | undefined
    for (const candidates of [this.byMethod.get(method), this.anyMethod]) {
      if (!candidates) continue
      for (const template of candidates) {
        const params = bind(template, segments)
        if (params !== undefined && (best === undefined || moreSpecific(template, best.template, segments.length))) best = { template, params }
      }
    }
    return best
  }
}

function moreSpecific(a: RouteTemplate, b: RouteTemplate, length: number): boolean {
  for (let i = 0; i < length; i++) {
    const diff = rank(a, i) - rank(b, i)
    if (diff !== 0) return diff < 0
  }
  // Equal on every segment: a named method beats `*`, then the exact template beats a subtree that also takes this path (`/a` over `/a/**`).
  if ((a.method === '*') !== (b.method === '*')) return b.method === '*'
  return a.subtree !== b.subtree && !a.subtree
}
