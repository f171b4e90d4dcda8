import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { ConfigError } from '../config/problems.js'

/**
 * The official Network Link OpenAPI document (never shipped with the gateway:
 * users point NLGW_OPENAPI at their copy). Each operation is reduced to the
 * JSON Schemas the gateway validates with; `$ref`s keep pointing into the
 * document's components, registered once with Ajv under DOCUMENT_ID.
 */
export const DOCUMENT_ID = 'nlgw-openapi'

export interface Operation {
  /** `METHOD /path/{param}` */
  key: string
  operationId: string
  tags: string[]
  successStatus: number
  params?: object
  query?: object
  /** Query parameters the operation declares, e.g. limit, startingAfter. */
  queryNames: string[]
  body?: object
  bodyRequired: boolean
  response?: object
  /** Error answer schemas by the document's status keys: `400`, `4XX`, `default`. */
  errors: Readonly<Record<string, object>>
}

/** The schema an error answer with this status must meet: its own code's, else its class's (`4XX`), else `default`'s. */
export function errorSchema(operation: Operation, status: number): object | undefined {
  return operation.errors[String(status)] ?? operation.errors[`${String(status)[0]}XX`] ?? operation.errors.default
}

export interface OpenApiDocument {
  file: string
  operations: ReadonlyMap<string, Operation>
  /** The document's components with refs rewritten, for Ajv. */
  components: object
}

type Json = Record<string, unknown>

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

/** `#/components/x` → `nlgw-openapi#/components/x`, everywhere. */
function rebase<T>(value: T): T {
  return JSON.parse(JSON.stringify(value).replace(/"\$ref":"#\//g, `"$ref":"${DOCUMENT_ID}#/`)) as T
}

function deref(doc: Json, value: unknown): Json {
  let node = value as Json
  for (let depth = 0; node && typeof node.$ref === 'string' && depth < 10; depth++) {
    node = (node.$ref as string)
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((n, key) => (n as Json | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc) as Json
  }
  return node
}

function objectSchema(parameters: Json[]): object | undefined {
  if (parameters.length === 0) return undefined
  return {
    type: 'object',
    properties: Object.fromEntries(parameters.map((p) => [p.name as string, rebase(p.schema ?? {})])),
    required: parameters.filter((p) => p.required).map((p) => p.name as string),
  }
}

export function loadOpenApi(file: string): OpenApiDocument {
  let doc: Json
  try {
    doc = parse(readFileSync(file, 'utf8'), { maxAliasCount: -1 }) as Json
  } catch (err) {
    throw new ConfigError([{ file, message: `cannot load the OpenAPI document: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }])
  }
  if (typeof doc?.openapi !== 'string' || !doc.openapi.startsWith('3.') || typeof doc.paths !== 'object') {
    throw new ConfigError([{ file, message: 'not an OpenAPI 3 document (expected `openapi: 3.x` and `paths`)' }])
  }
  const operations = new Map<string, Operation>()
  for (const [path, item] of Object.entries(doc.paths as Json)) {
    const pathItem = item as Json
    for (const method of METHODS) {
      const op = pathItem[method] as Json | undefined
      if (!op) continue
      const parameters = [...((pathItem.parameters as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])].map((p) => deref(doc, p))
      const requestBody = op.requestBody ? deref(doc, op.requestBody) : undefined
      const bodySchema = (requestBody?.content as Json | undefined)?.['application/json'] as Json | undefined
      const [status, response] = Object.entries((op.responses as Json) ?? {}).find(([code]) => /^2\d\d$/.test(code)) ?? ['200', undefined]
      const schemaOf = (answer: unknown) => ((deref(doc, answer)?.content as Json | undefined)?.['application/json'] as Json | undefined)?.schema as object | undefined
      const responseSchema = schemaOf(response)
      const errors = Object.entries((op.responses as Json) ?? {}).flatMap(([code, answer]) => {
        const schema = /^2/.test(code) ? undefined : schemaOf(answer)
        return schema ? [[code.toUpperCase() === 'DEFAULT' ? 'default' : code.toUpperCase(), rebase(schema)] as const] : []
      })
      const key = `${method.toUpperCase()} ${path}`
      const query = parameters.filter((p) => p.in === 'query')
      const params = objectSchema(parameters.filter((p) => p.in === 'path'))
      const querySchema = objectSchema(query)
      operations.set(key, {
        key,
        operationId: (op.operationId as string) ?? key,
        tags: (op.tags as string[]) ?? [],
        successStatus: Number(status),
        ...(params ? { params } : {}),
        ...(querySchema ? { query: querySchema } : {}),
        queryNames: query.map((p) => p.name as string),
        ...(bodySchema?.schema ? { body: rebase(bodySchema.schema as object) } : {}),
        bodyRequired: requestBody?.required === true,
        ...(responseSchema ? { response: rebase(responseSchema) } : {}),
        errors: Object.fromEntries(errors),
      })
    }
  }
  return { file, operations, components: { $id: DOCUMENT_ID, components: rebase(doc.components ?? {}) } }
}
