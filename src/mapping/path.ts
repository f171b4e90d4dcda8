/**
 * Places in a JSON value, written as templates write them after the root:
 * `result.items`, `data[0].list`. One syntax for references (`$body.result.items`),
 * `pages.items`, `pages.total` and `paginate`, parsed here only.
 */
export type PathSegment = string | number

/** One step: `.key` or `[3]`; in references also `[$name.path]`, an index or key read from another reference. */
const STEP = /\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[(\$[A-Za-z_]\w*(?:\.[A-Za-z0-9_-]+|\[\d+\])*)\]/y

/** Keys no path may read or write: they reach the prototype, not the data. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** A step whose index (or key) is the value of another reference, e.g. `$balances[$index]`. */
export interface DynamicStep {
  reference: string
}

/**
 * The steps of `text` (which starts with `.` or `[`), or undefined when it is not
 * a path. `[$ref]` steps are allowed only when `dynamic` (in references).
 */
export function parseSteps(text: string, dynamic = false): Array<PathSegment | DynamicStep> | undefined {
  const steps: Array<PathSegment | DynamicStep> = []
  STEP.lastIndex = 0
  while (STEP.lastIndex < text.length) {
    const m = STEP.exec(text)
    if (!m) return undefined
    if (m[1] !== undefined) steps.push(m[1])
    else if (m[2] !== undefined) steps.push(Number(m[2]))
    else if (dynamic) steps.push({ reference: m[3] as string })
    else return undefined
  }
  return steps
}

/** A path in a backend answer or a response, e.g. `result.items`; undefined when malformed or reserved. */
export function parsePath(text: string): PathSegment[] | undefined {
  const steps = /^[A-Za-z0-9_-]/.test(text) ? parseSteps(`.${text}`) : undefined
  return steps?.some((s) => typeof s === 'string' && FORBIDDEN_KEYS.has(s)) ? undefined : (steps as PathSegment[] | undefined)
}

/** JSON Schema pattern for a path (the schema checks the form; parsePath the reserved keys). */
export const PATH_PATTERN = '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+|\\[\\d+\\])*$'

export function valueAt(value: unknown, path: readonly PathSegment[]): unknown {
  let v = value
  for (const step of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<PathSegment, unknown>)[step]
  }
  return v
}

/** A copy of `value` with `replacement` at `path`, copying only the objects along the path. */
export function withValueAt(value: unknown, path: readonly PathSegment[], replacement: unknown): unknown {
  if (path.length === 0) return replacement
  const [step, ...rest] = path as [PathSegment, ...PathSegment[]]
  const inner = value !== null && typeof value === 'object' ? (value as Record<PathSegment, unknown>)[step] : undefined
  const copy: Record<PathSegment, unknown> | unknown[] = Array.isArray(value) ? [...(value as unknown[])] : { ...(value as object) }
  ;(copy as Record<PathSegment, unknown>)[step] = withValueAt(inner, rest, replacement)
  return copy
}

export function pathText(path: readonly PathSegment[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('')
}
