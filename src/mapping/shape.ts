/**
 * What a template can produce, known without running it: the static shape
 * `nlgw check` compares with the spec. References are unknown (`any`);
 * constants, object keys, lists and what operators return are known. A shape
 * keeps the place of the template it comes from, for file:line:col.
 */
export type Place = Array<string | number>

export type Shape =
  /** Anything: a reference, or an operator whose result depends on the data. */
  | { kind: 'any' }
  /** Nothing: an absent value (left out of the answer). */
  | { kind: 'absent' }
  | { kind: 'value'; value: string | number | boolean; at: Place }
  | { kind: 'string' | 'number' | 'boolean'; at: Place }
  /** An object with these keys; `open` when it may hold others too (a `$merge` of something unknown). */
  | { kind: 'object'; fields: ReadonlyMap<string, Shape>; open: boolean; at: Place }
  | { kind: 'list'; item: Shape; at: Place }
  /** One of these, depending on the data (`$switch`, `$if`, `$coalesce`). */
  | { kind: 'union'; options: Shape[] }

export const ANY: Shape = { kind: 'any' }
export const ABSENT: Shape = { kind: 'absent' }

export function union(options: Shape[]): Shape {
  const flat = options.flatMap((o) => (o.kind === 'union' ? o.options : [o]))
  return flat.length === 1 ? (flat[0] as Shape) : { kind: 'union', options: flat }
}

/** The options of a shape: itself, or each option of a union. */
export function optionsOf(shape: Shape): Shape[] {
  return shape.kind === 'union' ? shape.options : [shape]
}

/** Objects merged left to right: every key any part may bring; open when a part is not a known object. */
export function merge(parts: Shape[], at: Place): Shape {
  const fields = new Map<string, Shape>()
  let open = false
  for (const part of parts) {
    for (const option of optionsOf(part)) {
      if (option.kind === 'object') {
        for (const [key, value] of option.fields) fields.set(key, fields.has(key) ? union([fields.get(key) as Shape, value]) : value)
        open ||= option.open
      } else if (option.kind !== 'absent') open = true
    }
  }
  return { kind: 'object', fields, open, at }
}
