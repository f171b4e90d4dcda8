/**
 * The structure of a mapping file, for Ajv. Templates themselves are free-form
 * YAML checked by the template compiler; this schema checks everything around
 * them, so a misspelt key is caught with a suggestion.
 */
import { Duration } from '../config/schema.js'
import { ERROR_TYPES } from '../errors.js'
import { PATH_PATTERN } from './path.js'

const object = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', additionalProperties: false, properties, required })
const ANY = {}
const NAME = { type: 'string', pattern: '^[A-Za-z_]\\w*$' }
/** A place in an answer, in the syntax references use after their root: `data`, `result.items`. */
const PATH = { type: 'string', pattern: PATH_PATTERN, 'x-message': 'must be a path such as items or result.items (as after $body. in a reference)' }

export const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const

export const callSchema = object({
  name: NAME,
  if: ANY,
  // A per-item call: once for each element of this list, bound as `as` (default item).
  each: ANY,
  as: NAME,
  concurrency: { type: 'integer', minimum: 1, maximum: 64 },
  ...Object.fromEntries(METHODS.map((m) => [m, { type: 'string', pattern: '^/' }])),
  query: { type: 'object' },
  headers: { type: 'object' },
  body: ANY,
  timeout: Duration(),
  exactNumbers: { type: 'boolean' },
  // A call that only reads though its method is not GET (a JSON-RPC query, a search by POST): it never counts
  // as having changed anything, for idempotency and partial execution.
  reads: { type: 'boolean' },
  pages: object(
    {
      items: PATH,
      offset: { type: 'string', minLength: 1 },
      limit: { type: 'string', minLength: 1 },
      size: { type: 'integer', minimum: 1, maximum: 10000 },
      max: { type: 'integer', minimum: 1 },
      total: PATH,
    },
    ['items'],
  ),
})

const errorRule = object(
  {
    when: { type: 'object' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    errorType: { enum: ERROR_TYPES },
    message: ANY,
    propertyName: ANY,
    requestPart: ANY,
  },
  ['when', 'errorType'],
)

export const mappingFileSchema = object(
  {
    // Not compiled by itself: a place to define YAML anchors (&name) that routes refer to (*name).
    fragments: ANY,
    defaults: object({ timeout: Duration(), exactNumbers: { type: 'boolean' }, errors: { type: 'array', items: errorRule } }),
    routes: {
      type: 'array',
      items: object(
        {
          route: { type: 'string', pattern: '^(GET|POST|PUT|PATCH|DELETE) (/(\\{[A-Za-z_][A-Za-z0-9_]*\\}|[A-Za-z0-9._~-]+))+$', 'x-message': 'must be "METHOD /path/{param}", each parameter a whole segment, e.g. "GET /accounts/{accountId}/balances"' },
          upstream: { type: ['object', 'array'], 'x-message': 'must be one call { get: /path, … } or a list of named calls' },
          status: ANY,
          response: ANY,
          errors: { type: 'array', items: errorRule },
          paginate: {
            anyOf: [PATH, object({ list: PATH, id: PATH }, ['list'])],
            'x-message': 'must be the path of the list (paginate: balances, or result.balances) or { list, id }',
          },
          idempotency: { type: 'boolean' },
          exists: { type: 'object', 'x-message': 'must be one call, e.g. { get: "/internal/v1/users/{subject}/accounts/{accountId}" }' },
        },
        ['route'],
      ),
    },
  },
  ['routes'],
)
