/**
 * The gateway config file (`NLGW_CONFIG`): its JSON Schema, its defaults and
 * its TypeScript type, in one place (as pino's `defaultOptions` is one table).
 * Ajv validates with `useDefaults`, so a key left out takes the `default`
 * written here, and `RawConfig` is the type of what validation leaves. Every
 * object refuses unknown keys so that a typo is reported (with a suggestion)
 * rather than silently ignored. Durations are milliseconds or strings like
 * "300ms", "5s", "5m", "72h", "3d".
 */
import { Type, type Static, type TProperties, type TSchema } from '@sinclair/typebox'
import { ALGORITHMS, CURVES, HASHES, POST_ENCODINGS, PRE_ENCODINGS } from '../signing/index.js'

const DURATION_PATTERN = '^\\d+(ms|s|m|h|d)$'
/** Milliseconds, or a string such as "5s"; `default` a string of that form. */
export const Duration = (fallback?: string) =>
  Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: DURATION_PATTERN })], {
    'x-message': 'must be a duration such as 300ms, 5s, 5m, 72h, 3d, or a number of milliseconds',
    ...(fallback !== undefined ? { default: fallback } : {}),
  })
/** One of these strings; kept as `enum` so that a typo gets "did you mean". */
const OneOf = <T extends readonly string[]>(values: T, options: object = {}) => Type.Unsafe<T[number]>({ enum: [...values], ...options })
/** When a nonce or idempotency record counts: once the primary has it, or once a replica has confirmed it too (src/redis-writes.ts). */
export const DURABILITIES = ['async', 'replicated'] as const
export type Durability = (typeof DURABILITIES)[number]
/** A section of the file: unknown keys refused; `{}` when left out, so that its defaults apply. */
const Section = <T extends TProperties>(properties: T, options: object = {}) => Type.Object(properties, { additionalProperties: false, ...options })
const Optional = <T extends TSchema>(schema: T) => Type.Optional(schema)
const Port = (fallback: number) => Type.Integer({ minimum: 0, maximum: 65535, default: fallback })
const UrlPath = (options: object = {}) => Type.String({ pattern: '^(/[^/?#]+)*$', ...options })
const PemFile = Type.String({ minLength: 1, 'x-message': 'must be the path of a PEM file' })
/** An IPv4 or IPv6 address, or a CIDR block (`203.0.113.0/24`, `2001:db8::/32`); checked with node:net in the loader. */
const AddressList = Type.Array(Type.String({ pattern: '^[0-9A-Fa-f:.]+(/\\d{1,3})?$', 'x-message': 'must be an IP address or a CIDR block such as 203.0.113.0/24 or 2001:db8::/32' }), { minItems: 1 })

/** HTTPS on a listener: TLS 1.2 or later; with `requestClientCert`, mutual TLS (a certificate signed by `ca` required). */
const ListenerTls = Section({
  cert: PemFile,
  key: PemFile,
  ca: Optional(PemFile),
  requestClientCert: Type.Boolean({ default: false }),
})
/** HTTPS to a backend or to Fireblocks: a private CA to trust, and a client certificate for mutual TLS. */
const ClientTls = Section({ ca: Optional(PemFile), cert: Optional(PemFile), key: Optional(PemFile) })
/** A budget of requests per fixed window. */
const budget = { max: Type.Integer({ minimum: 1 }), window: Duration('1m') }

/** A path segment of a route template: a literal, or a whole-segment `{param}`. */
const SEGMENT = '/(\\{[A-Za-z_][A-Za-z0-9_]*\\}|[A-Za-z0-9._~-]+)'
/** `METHOD /path/{param}`, `*` for any method, a trailing `/**` for a subtree (src/route-table.ts). */
export const RouteTemplate = Type.String({
  pattern: `^(\\*|GET|POST|PUT|PATCH|DELETE) (?=/)(${SEGMENT})*(/\\*\\*)?$`,
  'x-message': 'must be "METHOD /path/{param}" ("*" for any method, "/**" at the end for a subtree), e.g. "GET /collateral/**"',
})

/** A value read from the environment or a file, never written inline. */
export const SecretRef = Section(
  { env: Optional(Type.String({ minLength: 1 })), file: Optional(Type.String({ minLength: 1 })) },
  { minProperties: 1, maxProperties: 1, 'x-message': 'must be { env: VARIABLE } or { file: PATH }' },
)
export type SecretRef = Static<typeof SecretRef>
const InlineOr = (inline: object, message: string) => Type.Union([Type.String(inline), SecretRef], { 'x-message': message })
const PublicKey = InlineOr({ pattern: '-----BEGIN' }, 'must be an inline PEM, { env: VARIABLE } or { file: PATH }')
const ApiKey = InlineOr({ minLength: 1 }, 'must be the key, { env: VARIABLE } or { file: PATH }')

const schemeFields = {
  algorithm: OneOf(ALGORITHMS),
  hash: OneOf(HASHES),
  curve: Optional(OneOf(CURVES)),
  preEncoding: OneOf(PRE_ENCODINGS),
  postEncoding: OneOf(POST_ENCODINGS),
}
const Scheme = Section(schemeFields)
/** In a credential: any field of the provider-wide scheme, overridden. */
const SchemeOverride = Type.Partial(Section(schemeFields))

/** Attributes a client certificate's subject must carry, e.g. `{ CN: nl.fireblocks.io, O: Fireblocks }`. */
const TlsSubject = Type.Record(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9.]*$' }), Type.String({ minLength: 1 }), {
  minProperties: 1,
  'x-message': 'must map subject attributes to values, e.g. { CN: nl.fireblocks.io, O: Fireblocks }',
})

/** By default the off-exchange collateral routes: every route under /accounts/{accountId}/collateral. */
export const COLLATERAL_ROUTES = ['* /accounts/{accountId}/collateral/**']

const CredentialSource = Type.Union(
  [
    Section({ file: Type.String({ minLength: 1 }) }),
    // Defaults inside a union's branches are not applied by Ajv: the loader supplies these two.
    Section({ redis: Section({ prefix: Optional(Type.String()) }) }),
    Section({ http: Section({ url: Type.String({ pattern: '^https?://' }), timeout: Optional(Duration()), headers: Optional(Type.Record(Type.String(), Type.String())) }) }),
  ],
  { 'x-message': 'a credential source is { file: PATH }, { redis: { prefix } } or { http: { url, timeout, headers } }' },
)
export type CredentialSourceConfig = Static<typeof CredentialSource>

export const configSchema = Section({
  server: Section(
    {
      host: Type.String({ default: '127.0.0.1' }),
      port: Port(8000),
      basePath: UrlPath({ default: '' }),
      bodyLimit: Type.Integer({ minimum: 1024, maximum: 16777216, default: 65536 }),
      workers: Type.Union([Type.Integer({ minimum: 1, maximum: 64 }), Type.Literal('auto')], { default: 1, 'x-message': 'must be a number of worker processes (1 to 64) or "auto" (one per CPU)' }),
      headersTimeout: Duration('10s'),
      requestTimeout: Duration('30s'),
      shutdownDelay: Duration('0s'),
      shutdownTimeout: Duration('10s'),
      tls: Optional(ListenerTls),
      allow: Optional(AddressList),
      trustedProxies: Optional(AddressList),
    },
    { default: {} },
  ),
  metrics: Section({ host: Type.String({ default: '127.0.0.1' }), port: Port(9464), apiKeyLabel: Type.Boolean({ default: false }) }, { default: {} }),
  redis: Optional(
    Section({
      url: Type.String(),
      commandTimeout: Duration('1s'),
      durability: OneOf(DURABILITIES, { default: 'async' }),
      waitTimeout: Duration('250ms'),
    }),
  ),
  auth: Section({
    scheme: Scheme,
    timestampWindow: Duration('5m'),
    nonceTtl: Duration('0s'),
    nonceStore: Section({ maxEntries: Type.Integer({ minimum: 1, default: 200_000 }) }, { default: {} }),
    base58BodyLimit: Type.Integer({ minimum: 1024, maximum: 16777216, default: 8192 }),
    credentials: Type.Array(CredentialSource, { minItems: 1 }),
    credentialCache: Section(
      {
        ttl: Duration('60s'),
        negativeTtl: Duration('5s'),
        maxEntries: Type.Integer({ minimum: 1, default: 10_000 }),
        maxUnknown: Type.Integer({ minimum: 1, default: 10_000 }),
      },
      { default: {} },
    ),
    platformSignature: Optional(
      Section({
        enabled: Type.Boolean({ default: true }),
        publicKeys: Type.Array(PublicKey, { minItems: 1 }),
        routes: Type.Array(RouteTemplate, { default: COLLATERAL_ROUTES }),
      }),
    ),
  }),
  upstream: Section({
    url: Type.String({ pattern: '^https?://[^/?#]+/?$' }),
    timeout: Duration('10s'),
    connectTimeout: Duration('2s'),
    connections: Type.Integer({ minimum: 1, default: 128 }),
    subjectHeader: Type.String({ pattern: '^[A-Za-z0-9-]+$', default: 'x-nlgw-subject' }),
    forwardFbapiHeaders: Type.Boolean({ default: false }),
    forwardHeaders: Type.Array(Type.String({ pattern: '^[A-Za-z0-9-]+$' }), { default: [], 'x-message': 'must be a list of header names' }),
    passthrough: Optional(UrlPath()),
    readinessPath: Optional(Type.String({ pattern: '^/' })),
    tls: Optional(ClientTls),
  }),
  reload: Section({ watch: Type.Boolean({ default: false }) }, { default: {} }),
  outbound: Optional(
    Section({
      host: Type.String({ default: '127.0.0.1' }),
      port: Port(8100),
      target: Type.String({ pattern: '^https?://' }),
      apiKey: ApiKey,
      scheme: Scheme,
      key: SecretRef,
      timeout: Duration('10s'),
      retries: Type.Integer({ minimum: 0, maximum: 5, default: 2 }),
      signBasePath: Type.Boolean({ default: false }),
      allow: Type.Array(RouteTemplate, { 'x-message': 'must list the Fireblocks endpoints the backend may call, e.g. ["POST /collateral/settlements", "GET /collateral/**"]' }),
      token: Optional(SecretRef),
      tls: Optional(ListenerTls),
      targetTls: Optional(ClientTls),
    }),
  ),
  rateLimit: Optional(
    Section({
      perCredential: Optional(Section({ ...budget, burst: Optional(Type.Integer({ minimum: 1 })) })),
      refusedPerAddress: Optional(Section(budget)),
    }),
  ),
  tracing: Optional(
    Section({
      endpoint: Type.String({ pattern: '^https?://', 'x-message': 'must be the OTLP/HTTP traces URL, e.g. http://otel-collector:4318/v1/traces' }),
      sampleRatio: Type.Number({ minimum: 0, maximum: 1, default: 1 }),
      serviceName: Type.String({ minLength: 1, default: 'network-link-gateway' }),
      headers: Type.Record(Type.String(), Type.String(), { default: {} }),
    }),
  ),
  idempotency: Section({ ttl: Duration('72h'), lock: Duration('2m'), maxEntries: Type.Integer({ minimum: 1, default: 20_000 }) }, { default: {} }),
  openapi: Optional(Section({ file: Optional(Type.String({ minLength: 1 })), responseValidation: OneOf(['off', 'report', 'enforce'] as const, { default: 'off' }) })),
  mappings: Type.Array(Type.String({ minLength: 1 }), { default: [], 'x-message': 'must be a list of mapping files or directories' }),
  logging: Section(
    {
      level: OneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, { default: 'info' }),
      pretty: Type.Boolean({ default: false }),
      // Lines are written once this many bytes wait, or after a second: one write for dozens of requests.
      // Below 16 KiB, the most sonic-boom (pino's stdout) writes at once.
      buffer: Type.Integer({ minimum: 0, maximum: 16_383, default: 4096 }),
    },
    { default: {} },
  ),
})

/** The config file as validation leaves it: every default filled in. */
export type RawConfig = Static<typeof configSchema>

/** The credentials file a `{ file }` source points at. */
export const credentialsFileSchema = Section({
  credentials: Type.Array(
    Section({
      id: Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })),
      apiKey: ApiKey,
      secret: Optional(SecretRef),
      publicKey: Optional(PublicKey),
      enabled: Type.Boolean({ default: true }),
      subject: Type.String({ minLength: 1 }),
      accounts: Optional(Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true })),
      scheme: Optional(SchemeOverride),
      tlsSubject: Optional(TlsSubject),
    }),
  ),
})
export type CredentialsFile = Static<typeof credentialsFileSchema>
