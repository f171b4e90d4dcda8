import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { suggest, type Problem } from './problems.js'
import type { SourceDocument } from './yaml.js'

/**
 * Ajv with messages a config author can act on, filling in each `default`
 * of the schema (the one table of defaults). A schema may carry
 * `x-message`: the one message for any error in it, replacing, for an
 * `anyOf` / `oneOf`, the noise of its branches.
 */
const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, useDefaults: true })
ajv.addVocabulary(['x-message'])

export function compileSchema(schema: object): ValidateFunction {
  return ajv.compile(schema)
}

function pathOf(error: ErrorObject): Array<string | number> {
  return error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part))
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return JSON.stringify(value)
}

function message(error: ErrorObject): string {
  const custom = (error.parentSchema as Record<string, unknown> | undefined)?.['x-message']
  if (typeof custom === 'string') return custom
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      const known = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {})
      const hint = suggest(key, known)
      return `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : known.length ? ` (expected one of ${known.join(', ')})` : ''}`
    }
    case 'required':
      return `missing required key "${String(params.missingProperty)}"`
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String)
      const hint = typeof error.data === 'string' ? suggest(error.data, allowed) : undefined
      return `${describe(error.data)} is not allowed${hint ? ` (did you mean "${hint}"?)` : ''}; expected one of ${allowed.join(', ')}`
    }
    case 'type':
      return `must be ${String(params.type)}, not ${describe(error.data)}`
    default:
      return `${describe(error.data)} ${error.message ?? 'is invalid'}`
  }
}

/** Validates `doc.value`; one located problem per distinct mistake. */
export function schemaProblems(doc: SourceDocument, validate: ValidateFunction, value: unknown = doc.value, base: ReadonlyArray<string | number> = []): Problem[] {
  if (validate(value)) return []
  const errors = validate.errors ?? []
  // A failed anyOf/oneOf explains itself; the errors of its branches at or under that path are noise.
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.instancePath)
  const kept = errors.filter(
    (e) => e.keyword === 'anyOf' || e.keyword === 'oneOf' || !unions.some((u) => e.instancePath === u || e.instancePath.startsWith(u + '/')),
  )
  // A misspelt required key is one slip: "unknown key errorTyp (did you mean errorType?)" says it all.
  const misspelt = (e: ErrorObject) =>
    e.keyword === 'required' &&
    kept.some((other) => {
      if (other.keyword !== 'additionalProperties' || other.instancePath !== e.instancePath) return false
      const missing = String((e.params as { missingProperty: string }).missingProperty)
      return suggest(String((other.params as { additionalProperty: string }).additionalProperty), [missing]) === missing
    })
  const problems: Problem[] = []
  for (const error of kept) {
    if (misspelt(error)) continue
    // An unknown key is pointed at itself, not at the mapping that holds it.
    const extra = error.keyword === 'additionalProperties' ? [String((error.params as { additionalProperty: string }).additionalProperty)] : []
    problems.push(doc.problem([...base, ...pathOf(error), ...extra], message(error), { atKey: extra.length > 0 }))
  }
  return problems
}
