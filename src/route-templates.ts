/**
 * `METHOD /path/{param}` templates, as in mapping files, matched against a
 * request path: the outbound allow-list and the routes that require the
 * platform signature. A `{param}` matches one path segment, a trailing `/**`
 * the path and anything below it; `*` as the method matches any. The matched
 * template (never the raw path) labels metrics.
 */
export interface RouteTemplate {
  template: string
  method: string
  pattern: RegExp
}

export function compileRouteTemplates(templates: readonly string[]): RouteTemplate[] {
  return templates.map((template) => {
    const [method, path] = template.split(' ') as [string, string]
    const subtree = path.endsWith('/**')
    const source = (subtree ? path.slice(0, -3) : path)
      .split(/(\{[^{}/]+\})/)
      .map((part) => (part.startsWith('{') ? '[^/?#]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('')
    return { template, method: method.toUpperCase(), pattern: new RegExp(`^${source}${subtree ? '(?:/.*)?' : ''}$`) }
  })
}

/** The first template this request matches, or undefined. */
export function matchRoute(routes: readonly RouteTemplate[], method: string, path: string): RouteTemplate | undefined {
  return routes.find((r) => (r.method === '*' || r.method === method) && r.pattern.test(path))
}
