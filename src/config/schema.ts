/**
 * The gateway config file (`NLGW_CONFIG`), as JSON Schema for Ajv. Every object
 * refuses unknown keys so that a typo is reported (with a suggestion) rather
 * than silently ignored. Durations are milliseconds or strings like "300ms",
 * "5s", "5m", "72h", "3d".
 */
import { ALGORITHMS, CURVES, HASHES, POST_ENCODINGS, PRE_ENCODINGS } from '../signing/index.js'

export const DURATION = {
  anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^\\d+(ms|s|m|h|d)$' }],
  'x-message': 'must be a duration such as 300ms, 5s, 5m, 72h, 3d, or a number of milliseconds',
} as const
const PORT = { type: 'integer', minimum: 0, maximum: 65535 } as const
/** A path segment of a route template: a literal, or a whole-segment `{param}`. */
const SEGMENT = '/(\\{[A-Za-z_][A-Za-z0-9_]*\\}|[A-Za-z0-9._~-]+)'
/** `METHOD /path/{param}`, `*` for any method, a trailing `/**` for a subtree (src/route-table.ts). */
export const ROUTE_TEMPLATE = {
  type: 'string',
  pattern: `^(\\*|GET|POST|PUT|PATCH|DELETE) (?=/)(${SEGMENT})*(/\\*\\*)?$`,
  'x-message': 'must be "METHOD /path/{param}" ("*" for any method, "/**" at the end for a subtree), e.g. "GET /collateral/**"',
} as const
const object = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', additionalProperties: false, properties, required })
/** A value read from the environment or a file, never written inline. */
export const SECRET_REF = {
  type: 'object',
  'x-message': 'must be { env: VARIABLE } or { file: PATH }',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: { env: { type: 'string', minLength: 1 }, file: { type: 'string', minLength: 1 } },
} as const

export const schemeSchema = (required: string[]) =>
  object(
    {
      algorithm: { enum: ALGORITHMS },
      hash: { enum: HASHES },
      curve: { enum: CURVES },
      preEncoding: { enum: PRE_ENCODINGS },
      postEncoding: { enum: POST_ENCODINGS },
    },
    required,
  )

export const configSchema = object(
  {
    server: object({
      host: { type: 'string' },
      port: PORT,
      basePath: { type: 'string', pattern: '^(/[^/?#]+)*$' },
      bodyLimit: { type: 'integer', minimum: 1024, maximum: 16777216 },
      headersTimeout: DURATION,
      requestTimeout: DURATION,
      shutdownDelay: DURATION,
      shutdownTimeout: DURATION,
    }),
    metrics: object({ host: { type: 'string' }, port: PORT, apiKeyLabel: { type: 'boolean' } }),
    redis: object({ url: { type: 'string' }, commandTimeout: DURATION }),
    auth: object(
      {
        scheme: schemeSchema(['algorithm', 'hash', 'preEncoding', 'postEncoding']),
        timestampWindow: DURATION,
        nonceTtl: DURATION,
        nonceStore: object({ maxEntries: { type: 'integer', minimum: 1 } }),
        base58BodyLimit: { type: 'integer', minimum: 1024, maximum: 16777216 },
        credentials: {
          type: 'array',
          minItems: 1,
          items: {
            'x-message': 'a credential source is { file: PATH }, { redis: { prefix } } or { http: { url, timeout, headers } }',
            oneOf: [
              object({ file: { type: 'string', minLength: 1 } }, ['file']),
              object({ redis: object({ prefix: { type: 'string' } }) }, ['redis']),
              object(
                {
                  http: object(
                    { url: { type: 'string', pattern: '^https?://' }, timeout: DURATION, headers: { type: 'object', additionalProperties: { type: 'string' } } },
                    ['url'],
                  ),
                },
                ['http'],
              ),
            ],
          },
        },
        credentialCache: object({ ttl: DURATION, negativeTtl: DURATION, maxEntries: { type: 'integer', minimum: 1 }, maxUnknown: { type: 'integer', minimum: 1 } }),
        platformSignature: object(
          {
            enabled: { type: 'boolean' },
            publicKeys: {
              type: 'array',
              minItems: 1,
              items: { anyOf: [{ type: 'string', pattern: '-----BEGIN' }, SECRET_REF], 'x-message': 'must be an inline PEM, { env: VARIABLE } or { file: PATH }' },
            },
            routes: { type: 'array', items: ROUTE_TEMPLATE },
          },
          ['publicKeys'],
        ),
      },
      ['scheme', 'credentials'],
    ),
    upstream: object(
      {
        url: { type: 'string', pattern: '^https?://[^/?#]+/?$' },
        timeout: DURATION,
        connectTimeout: DURATION,
        connections: { type: 'integer', minimum: 1 },
        subjectHeader: { type: 'string', pattern: '^[A-Za-z0-9-]+$' },
        forwardFbapiHeaders: { type: 'boolean' },
        forwardHeaders: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9-]+$' }, 'x-message': 'must be a list of header names' },
        passthrough: { type: 'string', pattern: '^(/[^/?#]+)*$' },
        readinessPath: { type: 'string', pattern: '^/' },
      },
      ['url'],
    ),
    reload: object({ watch: { type: 'boolean' } }),
    outbound: object(
      {
        host: { type: 'string' },
        port: PORT,
        target: { type: 'string', pattern: '^https?://' },
        apiKey: { anyOf: [{ type: 'string', minLength: 1 }, SECRET_REF], 'x-message': 'must be the key, { env: VARIABLE } or { file: PATH }' },
        scheme: schemeSchema(['algorithm', 'hash', 'preEncoding', 'postEncoding']),
        key: SECRET_REF,
        timeout: DURATION,
        retries: { type: 'integer', minimum: 0, maximum: 5 },
        signBasePath: { type: 'boolean' },
        allow: {
          type: 'array',
          items: ROUTE_TEMPLATE,
          'x-message': 'must list the Fireblocks endpoints the backend may call, e.g. ["POST /collateral/settlements", "GET /collateral/**"]',
        },
        token: SECRET_REF,
      },
      ['target', 'apiKey', 'scheme', 'key', 'allow'],
    ),
    idempotency: object({ ttl: DURATION, lock: DURATION, maxEntries: { type: 'integer', minimum: 1 } }),
    openapi: object({ file: { type: 'string', minLength: 1 }, responseValidation: { enum: ['off', 'report', 'enforce'] } }),
    mappings: { type: 'array', items: { type: 'string', minLength: 1 }, 'x-message': 'must be a list of mapping files or directories' },
    logging: object({ level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }, pretty: { type: 'boolean' } }),
  },
  ['auth', 'upstream'],
)

/** The credentials file a `{ file }` source points at. */
export const credentialsFileSchema = object(
  {
    credentials: {
      type: 'array',
      items: object(
        {
          id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
          apiKey: { anyOf: [{ type: 'string', minLength: 1 }, SECRET_REF], 'x-message': 'must be the key, { env: VARIABLE } or { file: PATH }' },
          secret: SECRET_REF,
          publicKey: { anyOf: [{ type: 'string', pattern: '-----BEGIN' }, SECRET_REF], 'x-message': 'must be an inline PEM, { env: VARIABLE } or { file: PATH }' },
          enabled: { type: 'boolean' },
          subject: { type: 'string', minLength: 1 },
          accounts: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
          scheme: schemeSchema([]),
        },
        ['apiKey', 'subject'],
      ),
    },
  },
  ['credentials'],
)
