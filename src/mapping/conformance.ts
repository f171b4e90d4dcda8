/**
 * A template's shape against the JSON Schema of the spec: what the template
 * can only ever produce wrong. Certain mistakes only — a required property no
 * branch produces, a constant outside an enum or a pattern, a list where an
 * object belongs — never a guess about data the backend sends: references
 * are unknown and pass.
 *
 * Each branch of the template (`$switch`, `$if`) is checked, since each can
 * be taken. Where the spec offers alternatives (`oneOf`, `anyOf`), a value
 * may meet any of them, and each property of an object is checked against
 * the alternatives it can still be, one property at a time: which branch goes
 * with which depends on the data, so no combination is assumed.
 */
import { suggest } from '../config/problems.js'
import { DOCUMENT_ID } from '../openapi/document.js'
import type { Place, Shape } from './shape.js'

type Schema = Record<string, unknown>
type Known = Exclude<Shape, { kind: 'any' | 'absent' | 'union' }>

/** A certain mistake, at the template that makes it. */
export interface Finding {
  at: Place
  message: string
  /** For an enum mistake: the value and what would be allowed, so alternatives can pool theirs. */
  enum?: { value: unknown; allowed: unknown[] }
}

/** One way of meeting a schema: its references followed, its `allOf` parts merged, one alternative of each `oneOf`. */
interface View {
  name?: string
  types?: string[]
  enum?: unknown[]
  patterns: string[]
  required: Set<string>
  properties: Map<string, Schema[]>
  items: Schema[]
}

/** Alternatives multiply (a oneOf inside an allOf inside a oneOf): past this many ways, the rest are not tried. */
const MAX_VIEWS = 64

export class Conformance {
  /** The ways of each schema of the document, worked out once (schemas are shared by many templates). */
  private readonly cache = new WeakMap<Schema, View[]>()

  constructor(private readonly components: object) {}

  /** The findings of a shape against a schema of the document; `visit` sees the place of every template checked. */
  check(shape: Shape, schema: Schema, visit?: (at: Place) => void): Finding[] {
    return this.against(shape, [schema], visit)
  }

  /** The shape must meet one of these schemas. */
  private against(shape: Shape, schemas: Schema[], visit?: (at: Place) => void): Finding[] {
    if (shape.kind === 'union') return shape.options.flatMap((option) => this.against(option, schemas, visit))
    if (shape.kind === 'any' || shape.kind === 'absent') return []
    visit?.(shape.at)
    const views = schemas.flatMap((schema) => this.views(schema)).slice(0, MAX_VIEWS)
    if (views.length === 0) return []
    const typed = views.filter((view) => !view.types || view.types.some((type) => fits(shape, type)))
    if (typed.length === 0) return closest(views.map((view) => [typeFinding(shape, view)]))
    if (shape.kind === 'object') {
      const complete = typed.filter((view) => lacking(shape, view).length === 0)
      if (complete.length === 0) return noForm(shape, typed)
      const findings: Finding[] = []
      for (const [key, field] of shape.fields) {
        const declared = complete.map((view) => view.properties.get(key))
        // A way that does not name the property leaves it free.
        if (declared.some((schemas) => schemas === undefined)) continue
        findings.push(...this.against(field, (declared as Schema[][]).map((all) => (all.length === 1 ? (all[0] as Schema) : { allOf: all })), visit))
      }
      return findings
    }
    if (shape.kind === 'list') {
      const items = typed.map((view) => view.items)
      return items.some((all) => all.length === 0) ? [] : this.against(shape.item, items.map((all) => (all.length === 1 ? (all[0] as Schema) : { allOf: all })), visit)
    }
    const each = typed.map((view) => valueFindings(shape, view))
    return each.some((findings) => findings.length === 0) ? [] : closest(each)
  }

  /** Every way of meeting a schema. */
  private views(schema: Schema): View[] {
    let cached = this.cache.get(schema)
    if (!cached) this.cache.set(schema, (cached = this.waysOf(schema)))
    return cached
  }

  private waysOf(schema: Schema): View[] {
    let views: View[] = [{ patterns: [], required: new Set(), properties: new Map(), items: [] }]
    const visit = (node: Schema, depth: number) => {
      if (depth > 20) return
      if (typeof node.$ref === 'string') {
        for (const view of views) view.name ??= node.$ref.split('/').at(-1)
        visit(this.resolve(node.$ref), depth + 1)
        return
      }
      for (const view of views) {
        if (Array.isArray(node.type)) view.types = node.type as string[]
        else if (typeof node.type === 'string') view.types = [node.type]
        if (Array.isArray(node.enum)) view.enum = node.enum
        if (typeof node.pattern === 'string') view.patterns.push(node.pattern)
        for (const key of (node.required as string[] | undefined) ?? []) view.required.add(key)
        for (const [key, sub] of Object.entries((node.properties as Record<string, Schema> | undefined) ?? {})) view.properties.set(key, [...(view.properties.get(key) ?? []), sub])
        if (node.items && typeof node.items === 'object') view.items.push(node.items as Schema)
      }
      for (const part of (node.allOf as Schema[] | undefined) ?? []) visit(part, depth + 1)
      for (const keyword of ['oneOf', 'anyOf']) {
        const alternatives = node[keyword]
        if (!Array.isArray(alternatives)) continue
        views = views
          .flatMap((view) => (alternatives as Schema[]).flatMap((alternative) => this.views(alternative).map((way) => combine(view, way))))
          .slice(0, MAX_VIEWS)
      }
    }
    visit(schema, 0)
    return views
  }

  private resolve(ref: string): Schema {
    const path = ref.replace(`${DOCUMENT_ID}#/`, '').split('/')
    return (path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], this.components) as Schema | undefined) ?? {}
  }
}

/** A way of meeting the outer schema and one of its alternatives, both. */
function combine(outer: View, inner: View): View {
  const properties = new Map(outer.properties)
  for (const [key, schemas] of inner.properties) properties.set(key, [...(properties.get(key) ?? []), ...schemas])
  return {
    ...((inner.name ?? outer.name) ? { name: (inner.name ?? outer.name) as string } : {}),
    ...((inner.types ?? outer.types) ? { types: (inner.types ?? outer.types) as string[] } : {}),
    ...((inner.enum ?? outer.enum) ? { enum: (inner.enum ?? outer.enum) as unknown[] } : {}),
    patterns: [...outer.patterns, ...inner.patterns],
    required: new Set([...outer.required, ...inner.required]),
    properties,
    items: [...outer.items, ...inner.items],
  }
}

/** Required properties a closed object shape lacks in every branch. */
function lacking(shape: Extract<Shape, { kind: 'object' }>, view: View): string[] {
  return shape.open ? [] : [...view.required].filter((key) => !shape.fields.has(key))
}

function missing(shape: Extract<Shape, { kind: 'object' }>, view: View): Finding[] {
  return lacking(shape, view).map((key) => {
      const hint = suggest(key, shape.fields.keys())
    return { at: shape.at, message: `${named(view) ?? 'this object'} requires "${key}", and no branch of this template produces it${hint ? ` (it has "${hint}": a typo?)` : ''}` }
  })
}

/** An object that meets none of the forms allowed here: what each form would need. */
function noForm(shape: Extract<Shape, { kind: 'object' }>, views: View[]): Finding[] {
  if (views.length === 1) return missing(shape, views[0] as View)
  const needs = [
    ...new Set(
      views.map((view) => {
        const keys = lacking(shape, view).map((key) => `"${key}"`)
        return `${named(view) ?? 'another form'} requires ${keys.join(', ')}`
      }),
    ),
  ]
  return [{ at: shape.at, message: `this object is none of the forms allowed here, and no branch of this template makes it one: ${needs.join('; ')}` }]
}

function valueFindings(shape: Known, view: View): Finding[] {
  if (shape.kind !== 'value') return []
  if (view.enum && !view.enum.includes(shape.value)) return [{ at: shape.at, message: enumMessage(shape.value, view.enum, view), enum: { value: shape.value, allowed: view.enum } }]
  const pattern = typeof shape.value === 'string' ? view.patterns.find((p) => !new RegExp(p, 'u').test(shape.value as string)) : undefined
  return pattern ? [{ at: shape.at, message: `${JSON.stringify(shape.value)} is not allowed${as(view)}: it does not match ${pattern}` }] : []
}

function typeFinding(shape: Known, view: View): Finding {
  return { at: shape.at, message: `${describe(shape)} is not allowed${as(view)}: the spec wants ${(view.types ?? []).map(typeName).join(' or ')}` }
}

/** The findings of the way that fits best; enum mistakes of several ways at one place, pooled. */
function closest(each: Finding[][]): Finding[] {
  const best = each.reduce((a, b) => (b.length < a.length ? b : a))
  const [first] = best
  const enums = each.map((findings) => findings[0]?.enum)
  if (best.length === 1 && first?.enum && each.length > 1 && each.every((f) => f.length === 1 && f[0]?.at === first.at) && enums.every(Boolean)) {
    const allowed = [...new Set(enums.flatMap((e) => e?.allowed ?? []))]
    return [{ at: first.at, message: enumMessage(first.enum.value, allowed), enum: { value: first.enum.value, allowed } }]
  }
  return best
}

function enumMessage(value: unknown, allowed: unknown[], view?: View): string {
  const hint = typeof value === 'string' ? suggest(value, allowed.map(String)) : undefined
  return `${JSON.stringify(value)} is not allowed${view ? as(view) : ' here'}${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of ${allowed.map(String).join(', ')}`
}

function named(view: View): string | undefined {
  return view.name ? `${/^[AEIOU]/i.test(view.name) ? 'an' : 'a'} ${view.name}` : undefined
}

function as(view: View): string {
  const name = named(view)
  return name ? ` as ${name}` : ' here'
}

function fits(shape: Known, type: string): boolean {
  const kind = shape.kind === 'value' ? typeof shape.value : shape.kind === 'list' ? 'array' : shape.kind
  if (type === 'integer') return kind === 'number' && (shape.kind !== 'value' || Number.isInteger(shape.value))
  return kind === type
}

function describe(shape: Known): string {
  if (shape.kind === 'value') return JSON.stringify(shape.value)
  return { string: 'text', number: 'a number', boolean: 'a condition (true or false)', object: 'an object', list: 'a list' }[shape.kind]
}

function typeName(type: string): string {
  return { string: 'text', number: 'a number', integer: 'an integer', boolean: 'true or false', object: 'an object', array: 'a list', null: 'null' }[type] ?? type
}
