import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { ERRORS, GatewayError, type RequestPart } from '../errors.js'
import { errorSchema, type OpenApiDocument, type Operation } from './document.js'

/**
 * Request and response validators for every operation, compiled once at
 * start-up. Query and path values arrive as text and are coerced (and given
 * their defaults, e.g. limit = 10); bodies are JSON and validated as sent.
 */
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

function ajv(options: { coerceTypes: 'array' | false; useDefaults: boolean }, doc: OpenApiDocument): Ajv {
  const instance = new Ajv({ ...options, strictSchema: false, allErrors: false, allowUnionTypes: true })
  addFormats(instance)
  instance.addFormat('UNIX-timestamp-epoch', { type: 'number', validate: (n: number) => Number.isInteger(n) && n > 0 })
  instance.addSchema(doc.components)
  return instance
}

export interface OperationValidators {
  operation: Operation
  /** Throws the Network Link 400 for the first problem; may coerce `params` and `query` in place. */
  request(params: unknown, query: unknown, body: unknown): void
  /** The first problem of a mapped response, or undefined when it conforms. */
  response?: (body: unknown) => ErrorObject | undefined
  /** The same for an error answer with this status (the spec's error schema for it), when the document has one. */
  error(status: number, body: unknown): ErrorObject | undefined
}

function refusal(error: ErrorObject, requestPart: RequestPart): GatewayError {
  const missing = error.keyword === 'required' ? `/${String((error.params as { missingProperty: string }).missingProperty)}` : ''
  const propertyName = error.instancePath + missing
  const problem = missing ? 'is required' : (error.message ?? 'is invalid')
  const message = `Request schema validation error: ${propertyName ? `${propertyName} ` : ''}${problem}`
  return propertyName
    ? new GatewayError(ERRORS.requestInvalid, { message, propertyName, requestPart })
    : new GatewayError(ERRORS.requestSchemaInvalid, { message, requestPart })
}

export function compileValidators(doc: OpenApiDocument, keys: Iterable<string>): Map<string, OperationValidators> {
  const text = ajv({ coerceTypes: 'array', useDefaults: true }, doc)
  const json = ajv({ coerceTypes: false, useDefaults: false }, doc)
  const out = new Map<string, OperationValidators>()
  // Operations share their error schemas (most refer to the same two): compile each once.
  const compiled = new Map<string, ValidateFunction>()
  const compileShared = (schema: object) => {
    const text = JSON.stringify(schema)
    let validate = compiled.get(text)
    if (!validate) compiled.set(text, (validate = json.compile(schema)))
    return validate
  }
  for (const key of keys) {
    const operation = doc.operations.get(key)
    if (!operation) continue
    const params = operation.params ? text.compile(operation.params) : undefined
    const query = operation.query ? text.compile(operation.query) : undefined
    const body = operation.body ? json.compile(operation.body) : undefined
    const response: ValidateFunction | undefined = operation.response ? json.compile(operation.response) : undefined
    Object.values(operation.errors).forEach(compileShared)
    out.set(key, {
      operation,
      request(p, q, b) {
        if (params && !params(p)) throw refusal(params.errors?.[0] as ErrorObject, 'params')
        if (query && !query(q)) throw refusal(query.errors?.[0] as ErrorObject, 'querystring')
        if (b === undefined) {
          if (operation.bodyRequired) throw new GatewayError(ERRORS.requestSchemaInvalid, { message: 'Request schema validation error: a JSON body is required', requestPart: 'body' })
        } else if (body && !body(b)) throw refusal(body.errors?.[0] as ErrorObject, 'body')
      },
      ...(response ? { response: (value: unknown) => (response(value) ? undefined : (response.errors?.[0] as ErrorObject)) } : {}),
      error(status, value) {
        const schema = errorSchema(operation, status)
        if (!schema) return undefined
        const validate = compileShared(schema)
        return validate(value) ? undefined : (validate.errors?.[0] as ErrorObject)
      },
    })
  }
  return out
}
