import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { CredentialRecord } from '../credentials/credential.js'
import { loadCredentialFile } from '../credentials/file.js'
import { mappingFiles } from '../mapping/load.js'
import { createSigner, createVerifier, SchemeError, type SigningScheme } from '../signing/index.js'
import type { ClientTls, ListenerTls } from '../tls.js'
import type { TracingConfig } from '../tracing.js'
import { checkAddresses, loadClientTls, loadListenerTls, type EdgeLoader } from './edge.js'
import { parseDuration } from './duration.js'
import { ConfigError, type Problem } from './problems.js'
import { configSchema, type Durability, type RawConfig } from './schema.js'
import { readSecret } from './secrets.js'
import { compileSchema, schemaProblems } from './validate.js'
import { SourceDocument } from './yaml.js'

/**
 * The gateway configuration: validated, defaults applied (they live in the
 * schema), durations in milliseconds, paths resolved and secrets read. Plain
 * data: the live objects made from it (verifiers, signers, clients) are built
 * by the core, so two configs compare as values.
 */
export interface GatewayConfig {
  file: string
  /** Digest of everything loaded (config and credential files), for the config-hash metric. */
  hash: string
  server: {
    host: string
    port: number
    basePath: string
    bodyLimit: number
    /** Serving processes on the one port ("auto": one per CPU); above 1 needs Redis. */
    workers: number
    /** A client must send its headers within this, and its whole request within requestTimeoutMs (slowloris). */
    headersTimeoutMs: number
    requestTimeoutMs: number
    shutdownDelayMs: number
    shutdownTimeoutMs: number
    /** HTTPS (PEM text, read from the files the config names); absent: plain HTTP. */
    tls?: ListenerTls
    /** The only source addresses served (addresses and CIDR blocks); absent: any. */
    allow?: string[]
    /** Peers whose X-Forwarded-For names the client. */
    trustedProxies?: string[]
  }
  metrics: RawConfig['metrics']
  redis?: { url: string; commandTimeoutMs: number; durability: Durability; waitTimeoutMs: number }
  auth: {
    scheme: SigningScheme
    timestampWindowMs: number
    /** Minimum retention of an accepted nonce; by default a nonce is kept while its timestamp is acceptable. */
    nonceTtlMs: number
    nonceMaxEntries: number
    /** Body limit for credentials whose pre-encoding is base58 (super-linear in the body size). */
    base58BodyLimit: number
    /** Credentials from the config's files: API key → record (key material as text). */
    credentials: ReadonlyMap<string, CredentialRecord>
    sources: Array<{ redis: { prefix: string } } | { http: { url: string; timeoutMs: number; headers: Record<string, string> } }>
    cache: { ttlMs: number; negativeTtlMs: number; maxEntries: number; maxUnknown: number }
    /** Fireblocks' platform signature, verified on these routes with any of these public keys (PEM). */
    platform?: { publicKeys: string[]; routes: string[] }
  }
  upstream: Omit<RawConfig['upstream'], 'timeout' | 'connectTimeout' | 'url' | 'tls'> & { url: string; timeoutMs: number; connectTimeoutMs: number; tls?: ClientTls }
  /** Mapping files (directories expanded), absolute. */
  mappings: string[]
  /** The Exchange → Fireblocks signing proxy, when configured. */
  outbound?: {
    host: string
    port: number
    /** Fireblocks base URL, path prefix included, e.g. https://api.fireblocks.io/v1 */
    target: string
    apiKey: string
    scheme: SigningScheme
    /** The HMAC secret or private key PEM the requests are signed with. */
    key: string
    timeoutMs: number
    retries: number
    /** Sign the base URL's path prefix too (default: the endpoint without it, as inbound). */
    signBasePath: boolean
    /** `METHOD /path/{param}` templates the backend may call; nothing else is forwarded. */
    allow: string[]
    /** The bearer token the backend must present; required unless the listener is on loopback or requires a client certificate. */
    token?: string
    /** HTTPS on the outbound listener; with requestClientCert, the backend's certificate authenticates it. */
    tls?: ListenerTls
    /** HTTPS to Fireblocks: a private CA, a client certificate. */
    targetTls?: ClientTls
  }
  /** Request budgets: per credential once authenticated, per source address for refused requests. */
  rateLimit?: {
    perCredential?: { max: number; windowMs: number; burst?: number }
    refusedPerAddress?: { max: number; windowMs: number }
  }
  /** OpenTelemetry tracing, when configured. */
  tracing?: TracingConfig
  /** Stored responses are kept `ttlMs`; a request holds its key at most `lockMs` while it runs. */
  idempotency: { ttlMs: number; lockMs: number; maxEntries: number }
  /** Reload on file changes, besides SIGHUP. */
  reload: RawConfig['reload']
  /** The official OpenAPI document, when configured (NLGW_OPENAPI). */
  openapi?: { file: string; responseValidation: 'off' | 'report' | 'enforce' }
  logging: RawConfig['logging']
}

type Json = Record<string, unknown>

const validateConfig = compileSchema(configSchema)
/** Fireblocks signs off-exchange requests with RSA PKCS#1 v1.5 over SHA-512, base64 (SPEC-README). */
export const PLATFORM_SCHEME: SigningScheme = { algorithm: 'rsa', hash: 'sha512', preEncoding: 'plain', postEncoding: 'base64' }
/** Network Link: a retry is recognised for at least 72 hours. */
const MIN_IDEMPOTENCY_TTL_MS = 72 * 3_600_000
const MIN_IDEMPOTENCY_LOCK_MS = 1000

/**
 * Environment variables that override config keys (the contract in README).
 * `section` ones apply only when the file has the section they belong to.
 */
const ENV_OVERRIDES: Array<[string, string[], 'string' | 'port' | 'path' | 'boolean' | 'secret', 'section'?]> = [
  ['HOST', ['server', 'host'], 'string'],
  ['PORT', ['server', 'port'], 'port'],
  ['METRICS_HOST', ['metrics', 'host'], 'string'],
  ['METRICS_PORT', ['metrics', 'port'], 'port'],
  ['UPSTREAM_URL', ['upstream', 'url'], 'string'],
  ['REDIS_URL', ['redis', 'url'], 'string'],
  ['LOG_LEVEL', ['logging', 'level'], 'string'],
  ['LOG_PRETTY', ['logging', 'pretty'], 'boolean'],
  // A path from the environment is relative to the working directory, not to the config file.
  ['NLGW_OPENAPI', ['openapi', 'file'], 'path'],
  ['NLGW_PLATFORM_SIGNATURE', ['auth', 'platformSignature', 'enabled'], 'boolean', 'section'],
  ['OUTBOUND_HOST', ['outbound', 'host'], 'string', 'section'],
  ['OUTBOUND_PORT', ['outbound', 'port'], 'port', 'section'],
  ['FIREBLOCKS_BASE_URL', ['outbound', 'target'], 'string', 'section'],
  // A secret stays in the environment: the config refers to the variable, never holds its value.
  ['NLGW_OUTBOUND_TOKEN', ['outbound', 'token'], 'secret', 'section'],
]

function applyEnv(value: Json, env: NodeJS.ProcessEnv, problems: Problem[]): void {
  for (const [name, path, kind, only] of ENV_OVERRIDES) {
    const raw = env[name]
    if (raw === undefined || raw === '') continue
    if (kind === 'port' && !/^\d{1,5}$/.test(raw)) {
      problems.push({ file: 'environment', path: name, message: `${JSON.stringify(raw)} is not a port number` })
      continue
    }
    let target = value
    const parents = path.slice(0, -1)
    if (only === 'section' && parents.reduce<Json | undefined>((node, key) => node?.[key] as Json | undefined, value) === undefined) continue
    for (const key of parents) target = (target[key] ??= {}) as Json
    target[path.at(-1) as string] =
      kind === 'port' ? Number(raw) : kind === 'path' ? resolve(raw) : kind === 'boolean' ? /^(1|true|yes|on)$/i.test(raw) : kind === 'secret' ? { env: name } : raw
  }
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const doc = SourceDocument.read(file)
  const hash = createHash('sha256').update(readFileSync(file))
  const problems: Problem[] = []
  const value = (doc.value ?? {}) as Json
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError([doc.problem([], 'the config must be a mapping')])
  applyEnv(value, env, problems)
  problems.push(...schemaProblems(doc, validateConfig, value))
  if (problems.length > 0) throw new ConfigError(problems)
  const raw = value as RawConfig
  const baseDir = dirname(resolve(file))
  const at = (path: Array<string | number>, message: string) => problems.push(doc.problem(path, message))

  const edge: EdgeLoader = { baseDir, env, hash, at }
  const serverTls = loadListenerTls(edge, raw.server.tls, ['server', 'tls'])
  checkAddresses(edge, raw.server.allow, ['server', 'allow'])
  checkAddresses(edge, raw.server.trustedProxies, ['server', 'trustedProxies'])

  const { auth } = raw
  const credentials = new Map<string, CredentialRecord>()
  const sources: GatewayConfig['auth']['sources'] = []
  auth.credentials.forEach((source, index) => {
    if ('file' in source) {
      const path = resolve(baseDir, source.file)
      const before = credentials.size
      try {
        hash.update(readFileSync(path))
        loadCredentialFile(path, auth.scheme, env, credentials, problems)
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err
        problems.push(...err.problems)
      }
      const bound = [...credentials.values()].slice(before).some((record) => record.tlsSubject)
      if (bound && !raw.server.tls?.requestClientCert) at(['auth', 'credentials', index], 'credentials with tlsSubject need mutual TLS: server.tls.requestClientCert')
    } else if ('redis' in source) {
      sources.push({ redis: { prefix: source.redis.prefix ?? 'nlgw:credential:' } })
      if (!raw.redis) at(['auth', 'credentials', index], 'a redis credential source needs redis.url (or REDIS_URL)')
    } else {
      sources.push({ http: { url: source.http.url, timeoutMs: parseDuration(source.http.timeout, 2000), headers: source.http.headers ?? {} } })
    }
  })

  let platform: GatewayConfig['auth']['platform']
  if (auth.platformSignature?.enabled) {
    const publicKeys: string[] = []
    auth.platformSignature.publicKeys.forEach((ref, i) => {
      try {
        const pem = readSecret(ref, baseDir, env)
        createVerifier(PLATFORM_SCHEME, pem) // parsed here only to report a bad key at its line
        publicKeys.push(pem)
      } catch (err) {
        at(['auth', 'platformSignature', 'publicKeys', i], (err as Error).message)
      }
    })
    platform = { publicKeys, routes: auth.platformSignature.routes }
  }
  const outbound = raw.outbound && loadOutbound(raw.outbound, edge)
  const upstreamTls = loadClientTls(edge, raw.upstream.tls, ['upstream', 'tls'])
  if (upstreamTls && !raw.upstream.url.startsWith('https://')) at(['upstream', 'tls'], 'applies to an https:// upstream.url only')
  const idempotency = { ttlMs: parseDuration(raw.idempotency.ttl, 0), lockMs: parseDuration(raw.idempotency.lock, 0), maxEntries: raw.idempotency.maxEntries }
  if (idempotency.ttlMs < MIN_IDEMPOTENCY_TTL_MS) at(['idempotency', 'ttl'], 'Network Link requires retries to be recognised for at least 72h')
  if (idempotency.lockMs < MIN_IDEMPOTENCY_LOCK_MS) at(['idempotency', 'lock'], 'must be at least 1s: a claim is renewed every fifth of it while its request runs, and a shorter one can lapse between renewals')
  const workers = raw.server.workers === 'auto' ? availableParallelism() : raw.server.workers
  if (workers > 1 && !raw.redis) {
    at(['server', 'workers'], `${workers} workers need redis.url (or REDIS_URL): each worker has its own memory, so a nonce one worker saw another would accept`)
  }
  const redis = raw.redis && {
    url: raw.redis.url,
    commandTimeoutMs: parseDuration(raw.redis.commandTimeout, 0),
    durability: raw.redis.durability,
    waitTimeoutMs: parseDuration(raw.redis.waitTimeout, 0),
  }
  // WAIT runs under the command timeout: a longer wait would be cut off as an unreachable Redis.
  if (redis && redis.durability === 'replicated' && redis.waitTimeoutMs >= redis.commandTimeoutMs) at(['redis', 'waitTimeout'], 'must be shorter than redis.commandTimeout')
  if (problems.length > 0) throw new ConfigError(problems)

  const { server, upstream, openapi } = raw
  return {
    file,
    hash: hash.digest('hex'),
    server: {
      host: server.host,
      port: server.port,
      basePath: server.basePath,
      bodyLimit: server.bodyLimit,
      workers,
      headersTimeoutMs: parseDuration(server.headersTimeout, 0),
      requestTimeoutMs: parseDuration(server.requestTimeout, 0),
      shutdownDelayMs: parseDuration(server.shutdownDelay, 0),
      shutdownTimeoutMs: parseDuration(server.shutdownTimeout, 0),
      ...(serverTls ? { tls: serverTls } : {}),
      ...(server.allow ? { allow: server.allow } : {}),
      ...(server.trustedProxies ? { trustedProxies: server.trustedProxies } : {}),
    },
    metrics: raw.metrics,
    ...(redis ? { redis } : {}),
    auth: {
      scheme: auth.scheme,
      timestampWindowMs: parseDuration(auth.timestampWindow, 0),
      nonceTtlMs: parseDuration(auth.nonceTtl, 0),
      nonceMaxEntries: auth.nonceStore.maxEntries,
      base58BodyLimit: auth.base58BodyLimit,
      credentials,
      sources,
      cache: {
        ttlMs: parseDuration(auth.credentialCache.ttl, 0),
        negativeTtlMs: parseDuration(auth.credentialCache.negativeTtl, 0),
        maxEntries: auth.credentialCache.maxEntries,
        maxUnknown: auth.credentialCache.maxUnknown,
      },
      ...(platform ? { platform } : {}),
    },
    upstream: {
      ...upstream,
      ...(upstreamTls ? { tls: upstreamTls } : {}),
      url: upstream.url.replace(/\/$/, ''),
      timeoutMs: parseDuration(upstream.timeout, 0),
      connectTimeoutMs: parseDuration(upstream.connectTimeout, 0),
      subjectHeader: upstream.subjectHeader.toLowerCase(),
      forwardHeaders: upstream.forwardHeaders.map((name) => name.toLowerCase()),
    },
    mappings: mappingFiles(raw.mappings, baseDir),
    ...(outbound ? { outbound } : {}),
    reload: raw.reload,
    idempotency,
    ...(openapi?.file !== undefined ? { openapi: { file: resolve(baseDir, openapi.file), responseValidation: openapi.responseValidation } } : {}),
    ...(raw.rateLimit ? { rateLimit: rateLimits(raw.rateLimit) } : {}),
    ...(raw.tracing ? { tracing: raw.tracing } : {}),
    logging: raw.logging,
  }
}

/** What mapping files compile with: the files, the OpenAPI document, and the upstream settings they default to. */
export type MappingInputs = Pick<GatewayConfig, 'mappings' | 'openapi'> & { upstream: Pick<GatewayConfig['upstream'], 'timeoutMs' | 'subjectHeader'> }

/**
 * For `nlgw check` when the config itself has problems: the mapping inputs as
 * far as the file names them, with the schema's defaults filled in, so that its
 * mapping problems are reported in the same run. Undefined when the file
 * cannot be read as a YAML mapping at all.
 */
export function mappingInputs(file: string, env: NodeJS.ProcessEnv = process.env): MappingInputs | undefined {
  let doc: SourceDocument
  try {
    doc = SourceDocument.read(file)
  } catch (err) {
    if (err instanceof ConfigError) return undefined
    throw err
  }
  const value = doc.value as Json
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  applyEnv(value, env, [])
  if (value.upstream === null || typeof value.upstream !== 'object') value.upstream = {}
  // Only for the defaults it fills in: loadConfig has reported the problems.
  schemaProblems(doc, validateConfig, value)
  const { mappings, upstream, openapi } = value as { mappings?: unknown; upstream: Json; openapi?: Json }
  const baseDir = dirname(resolve(file))
  return {
    mappings: Array.isArray(mappings) ? mappingFiles(mappings.filter((m): m is string => typeof m === 'string' && m !== ''), baseDir) : [],
    upstream: {
      timeoutMs: parseDuration(upstream.timeout as string | number | undefined, 0),
      subjectHeader: typeof upstream.subjectHeader === 'string' ? upstream.subjectHeader.toLowerCase() : '',
    },
    ...(typeof openapi?.file === 'string' ? { openapi: { file: resolve(baseDir, openapi.file), responseValidation: 'off' as const } } : {}),
  }
}

function rateLimits({ perCredential, refusedPerAddress }: NonNullable<RawConfig['rateLimit']>): NonNullable<GatewayConfig['rateLimit']> {
  return {
    ...(perCredential ? { perCredential: { max: perCredential.max, windowMs: parseDuration(perCredential.window, 0), ...(perCredential.burst !== undefined ? { burst: perCredential.burst } : {}) } } : {}),
    ...(refusedPerAddress ? { refusedPerAddress: { max: refusedPerAddress.max, windowMs: parseDuration(refusedPerAddress.window, 0) } } : {}),
  }
}

function loadOutbound(raw: NonNullable<RawConfig['outbound']>, edge: EdgeLoader): GatewayConfig['outbound'] {
  const { baseDir, env, at } = edge
  const read = (field: 'apiKey' | 'key' | 'token'): string | undefined => {
    const ref = raw[field]
    if (ref === undefined) return undefined
    try {
      return readSecret(ref, baseDir, env)
    } catch (err) {
      at(['outbound', field], (err as Error).message)
      return undefined
    }
  }
  const apiKey = read('apiKey')?.trim()
  const key = read('key')
  const token = read('token')?.trim()
  if (token !== undefined && token.length < 16) at(['outbound', 'token'], 'the token must be at least 16 characters')
  if (raw.token === undefined && !raw.tls?.requestClientCert && !isLoopback(raw.host)) {
    // Anyone who reaches the listener could have the exchange's key sign for them.
    at(['outbound', 'host'], `listening on ${raw.host} needs outbound.token (a bearer token the backend sends) or outbound.tls.requestClientCert (a client certificate); without either, keep the listener on loopback (127.0.0.1, ::1)`)
  }
  const tls = loadListenerTls(edge, raw.tls, ['outbound', 'tls'])
  const targetTls = loadClientTls(edge, raw.targetTls, ['outbound', 'targetTls'])
  if (targetTls && !raw.target.startsWith('https://')) at(['outbound', 'targetTls'], 'applies to an https:// outbound.target only')
  if (key !== undefined) {
    try {
      createSigner(raw.scheme, key) // parsed here only to report a bad key or scheme at its line
    } catch (err) {
      if (err instanceof SchemeError) err.problems.forEach((p) => at(['outbound', 'scheme', p.field], p.message))
      else at(['outbound', 'key'], (err as Error).message)
      return undefined
    }
  }
  if (apiKey === undefined || key === undefined) return undefined
  return {
    host: raw.host,
    port: raw.port,
    target: raw.target.replace(/\/$/, ''),
    apiKey,
    scheme: raw.scheme,
    key,
    timeoutMs: parseDuration(raw.timeout, 0),
    retries: raw.retries,
    signBasePath: raw.signBasePath,
    allow: raw.allow,
    ...(token !== undefined ? { token } : {}),
    ...(tls ? { tls } : {}),
    ...(targetTls ? { targetTls } : {}),
  }
}

/** A host that only this machine (or pod) reaches. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
