import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { buildCredential, type Credential } from '../credentials/credential.js'
import { createSigner, createVerifier, KeyError, SchemeError, type Signer, type SigningScheme, type Verifier } from '../signing/index.js'
import { parseDuration } from './duration.js'
import { ConfigError, type Problem } from './problems.js'
import { mappingFiles } from '../mapping/load.js'
import { configSchema, credentialsFileSchema } from './schema.js'
import { compileSchema, schemaProblems } from './validate.js'
import { SourceDocument } from './yaml.js'

/** The gateway configuration, validated, with defaults applied and secrets resolved. */
export interface GatewayConfig {
  file: string
  /** Digest of everything loaded (config and credential files), for the config-hash metric. */
  hash: string
  server: {
    host: string
    port: number
    basePath: string
    bodyLimit: number
    /** A client must send its headers within this, and its whole request within requestTimeoutMs (slowloris). */
    headersTimeoutMs: number
    requestTimeoutMs: number
    shutdownDelayMs: number
    shutdownTimeoutMs: number
  }
  metrics: { host: string; port: number; apiKeyLabel: boolean }
  redis?: { url: string; commandTimeoutMs: number }
  auth: {
    scheme: SigningScheme
    timestampWindowMs: number
    /** Minimum retention of an accepted nonce; by default a nonce is kept while its timestamp is acceptable. */
    nonceTtlMs: number
    nonceMaxEntries: number
    /** Body limit for credentials whose pre-encoding is base58 (super-linear in the body size). */
    base58BodyLimit: number
    credentials: ReadonlyMap<string, Credential>
    sources: Array<{ redis: { prefix: string } } | { http: { url: string; timeoutMs: number; headers: Record<string, string> } }>
    cache: { ttlMs: number; negativeTtlMs: number; maxEntries: number; maxUnknown: number }
    /** Fireblocks' platform signature, verified on these routes with any of these keys. */
    platform?: { verifiers: Verifier[]; routes: string[] }
  }
  upstream: {
    url: string
    timeoutMs: number
    connectTimeoutMs: number
    connections: number
    subjectHeader: string
    forwardFbapiHeaders: boolean
    /** Request headers passthrough forwards besides its default allow-list. */
    forwardHeaders: string[]
    passthrough?: string
    /** GET this path on the backend for /readyz (any answer below 500 is ready). */
    readinessPath?: string
  }
  /** Mapping files (directories expanded), absolute. */
  mappings: string[]
  /** The Exchange → Fireblocks signing proxy, when configured. */
  outbound?: {
    host: string
    port: number
    /** Fireblocks base URL, path prefix included, e.g. https://api.fireblocks.io/v1 */
    target: string
    apiKey: string
    signer: Signer
    timeoutMs: number
    retries: number
    /** Sign the base URL's path prefix too (default: the endpoint without it, as inbound). */
    signBasePath: boolean
    /** `METHOD /path/{param}` templates the backend may call; nothing else is forwarded. */
    allow: string[]
    /** The bearer token the backend must present; required unless the listener is on loopback. */
    token?: string
  }
  /** Stored responses are kept `ttlMs`; a request holds its key at most `lockMs` while it runs. */
  idempotency: { ttlMs: number; lockMs: number; maxEntries: number }
  /** Reload on file changes, besides SIGHUP. */
  reload: { watch: boolean }
  /** The official OpenAPI document, when configured (NLGW_OPENAPI). */
  openapi?: { file: string; responseValidation: 'off' | 'report' | 'enforce' }
  logging: { level: string; pretty: boolean }
}

type Json = Record<string, unknown>
const section = (value: unknown, key: string): Json => (((value as Json | undefined)?.[key] as Json | undefined) ?? {})

const validateConfig = compileSchema(configSchema)
const validateCredentials = compileSchema(credentialsFileSchema)

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

  const baseDir = dirname(resolve(file))
  const auth = section(value, 'auth')
  const scheme = auth.scheme as SigningScheme
  const timestampWindowMs = parseDuration(auth.timestampWindow as string, 300_000)
  const nonceTtlMs = parseDuration(auth.nonceTtl as string, 0)
  const credentials = new Map<string, Credential>()
  const sources: GatewayConfig['auth']['sources'] = []
  ;(auth.credentials as Json[]).forEach((source, index) => {
    if (typeof source.file === 'string') {
      const path = resolve(baseDir, source.file)
      try {
        hash.update(readFileSync(path))
        loadCredentialFile(path, scheme, env, credentials, problems)
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err
        problems.push(...err.problems)
      }
    } else if (source.redis) {
      sources.push({ redis: { prefix: (section(source, 'redis').prefix as string | undefined) ?? 'nlgw:credential:' } })
      if (!section(value, 'redis').url) problems.push(doc.problem(['auth', 'credentials', index], 'a redis credential source needs redis.url (or REDIS_URL)'))
    } else {
      const http = section(source, 'http')
      sources.push({ http: { url: http.url as string, timeoutMs: parseDuration(http.timeout as string, 2000), headers: (http.headers as Record<string, string>) ?? {} } })
    }
  })
  if (problems.length > 0) throw new ConfigError(problems)

  const platform = loadPlatformSignature(doc, section(auth, 'platformSignature'), baseDir, env, problems)
  const outbound = value.outbound === undefined ? undefined : loadOutbound(doc, section(value, 'outbound'), baseDir, env, problems)
  if (parseDuration(section(value, 'idempotency').ttl as string | undefined, 72 * 3_600_000) < 72 * 3_600_000) {
    problems.push(doc.problem(['idempotency', 'ttl'], 'Network Link requires retries to be recognised for at least 72h'))
  }
  if (problems.length > 0) throw new ConfigError(problems)

  const server = section(value, 'server')
  const metrics = section(value, 'metrics')
  const redis = section(value, 'redis')
  const cache = section(auth, 'credentialCache')
  const upstream = section(value, 'upstream')
  const logging = section(value, 'logging')
  return {
    file,
    hash: hash.digest('hex'),
    server: {
      host: (server.host as string) ?? '127.0.0.1',
      port: (server.port as number) ?? 8000,
      basePath: (server.basePath as string) ?? '',
      bodyLimit: (server.bodyLimit as number) ?? 65536,
      headersTimeoutMs: parseDuration(server.headersTimeout as string | undefined, 10_000),
      requestTimeoutMs: parseDuration(server.requestTimeout as string | undefined, 30_000),
      shutdownDelayMs: parseDuration(server.shutdownDelay as string | undefined, 0),
      shutdownTimeoutMs: parseDuration(server.shutdownTimeout as string | undefined, 10_000),
    },
    metrics: { host: (metrics.host as string) ?? '127.0.0.1', port: (metrics.port as number) ?? 9464, apiKeyLabel: (metrics.apiKeyLabel as boolean) ?? false },
    ...(typeof redis.url === 'string' ? { redis: { url: redis.url, commandTimeoutMs: parseDuration(redis.commandTimeout as string, 1000) } } : {}),
    auth: {
      scheme,
      timestampWindowMs,
      nonceTtlMs,
      nonceMaxEntries: (section(auth, 'nonceStore').maxEntries as number) ?? 200_000,
      base58BodyLimit: (auth.base58BodyLimit as number | undefined) ?? 8192,
      credentials,
      sources,
      cache: {
        ttlMs: parseDuration(cache.ttl as string, 60_000),
        negativeTtlMs: parseDuration(cache.negativeTtl as string, 5_000),
        maxEntries: (cache.maxEntries as number) ?? 10_000,
        maxUnknown: (cache.maxUnknown as number) ?? 10_000,
      },
      ...(platform ? { platform } : {}),
    },
    upstream: {
      url: (upstream.url as string).replace(/\/$/, ''),
      timeoutMs: parseDuration(upstream.timeout as string, 10_000),
      connectTimeoutMs: parseDuration(upstream.connectTimeout as string, 2_000),
      connections: (upstream.connections as number) ?? 128,
      subjectHeader: ((upstream.subjectHeader as string) ?? 'x-nlgw-subject').toLowerCase(),
      forwardFbapiHeaders: (upstream.forwardFbapiHeaders as boolean) ?? false,
      forwardHeaders: ((upstream.forwardHeaders as string[] | undefined) ?? []).map((name) => name.toLowerCase()),
      ...(typeof upstream.passthrough === 'string' ? { passthrough: upstream.passthrough } : {}),
      ...(typeof upstream.readinessPath === 'string' ? { readinessPath: upstream.readinessPath } : {}),
    },
    mappings: mappingFiles((value.mappings as string[] | undefined) ?? [], baseDir),
    ...(outbound ? { outbound } : {}),
    reload: { watch: (section(value, 'reload').watch as boolean | undefined) ?? false },
    idempotency: {
      ttlMs: parseDuration(section(value, 'idempotency').ttl as string | undefined, 72 * 3_600_000),
      lockMs: parseDuration(section(value, 'idempotency').lock as string | undefined, 120_000),
      maxEntries: (section(value, 'idempotency').maxEntries as number | undefined) ?? 20_000,
    },
    ...(typeof section(value, 'openapi').file === 'string'
      ? {
          openapi: {
            file: resolve(baseDir, section(value, 'openapi').file as string),
            responseValidation: (section(value, 'openapi').responseValidation as 'off' | 'report' | 'enforce' | undefined) ?? 'off',
          },
        }
      : {}),
    logging: { level: (logging.level as string) ?? 'info', pretty: (logging.pretty as boolean) ?? false },
  }
}

/** By default the off-exchange collateral routes: every route under /accounts/{accountId}/collateral. */
export const COLLATERAL_ROUTES = ['* /accounts/{accountId}/collateral/**']

const PLATFORM_SCHEME: SigningScheme = { algorithm: 'rsa', hash: 'sha512', preEncoding: 'plain', postEncoding: 'base64' }

function loadPlatformSignature(doc: SourceDocument, raw: Json, baseDir: string, env: NodeJS.ProcessEnv, problems: Problem[]): GatewayConfig['auth']['platform'] {
  if (raw.enabled === false || raw.publicKeys === undefined) return undefined
  const verifiers: Verifier[] = []
  ;(raw.publicKeys as unknown[]).forEach((key, i) => {
    try {
      verifiers.push(createVerifier(PLATFORM_SCHEME, typeof key === 'string' ? key : readRef(key as Json, baseDir, env)))
    } catch (err) {
      problems.push(doc.problem(['auth', 'platformSignature', 'publicKeys', i], (err as Error).message))
    }
  })
  return { verifiers, routes: (raw.routes as string[] | undefined) ?? COLLATERAL_ROUTES }
}

function loadOutbound(doc: SourceDocument, raw: Json, baseDir: string, env: NodeJS.ProcessEnv, problems: Problem[]): GatewayConfig['outbound'] {
  let apiKey = ''
  let signer: Signer | undefined
  try {
    apiKey = typeof raw.apiKey === 'string' ? raw.apiKey : readRef(raw.apiKey as Json, baseDir, env).trim()
  } catch (err) {
    problems.push(doc.problem(['outbound', 'apiKey'], (err as Error).message))
  }
  try {
    signer = createSigner(raw.scheme as SigningScheme, readRef(raw.key as Json, baseDir, env))
  } catch (err) {
    if (err instanceof SchemeError) err.problems.forEach((p) => problems.push(doc.problem(['outbound', 'scheme', p.field], p.message)))
    else problems.push(doc.problem(['outbound', 'key'], (err as Error).message))
  }
  let token: string | undefined
  if (raw.token !== undefined) {
    try {
      token = readRef(raw.token as Json, baseDir, env).trim()
      if (token.length < 16) problems.push(doc.problem(['outbound', 'token'], 'the token must be at least 16 characters'))
    } catch (err) {
      problems.push(doc.problem(['outbound', 'token'], (err as Error).message))
    }
  }
  const host = (raw.host as string | undefined) ?? '127.0.0.1'
  if (token === undefined && raw.token === undefined && !isLoopback(host)) {
    // Anyone who reaches the listener could have the exchange's key sign for them.
    problems.push(doc.problem(['outbound', 'host'], `listening on ${host} needs outbound.token (a bearer token the backend sends); without one, keep the listener on loopback (127.0.0.1, ::1)`))
  }
  if (!signer) return undefined
  return {
    host,
    port: (raw.port as number | undefined) ?? 8100,
    target: (raw.target as string).replace(/\/$/, ''),
    apiKey,
    signer,
    timeoutMs: parseDuration(raw.timeout as string | undefined, 10_000),
    retries: (raw.retries as number | undefined) ?? 2,
    signBasePath: (raw.signBasePath as boolean | undefined) ?? false,
    allow: raw.allow as string[],
    ...(token !== undefined ? { token } : {}),
  }
}

/** A host that only this machine (or pod) reaches. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

function readRef(ref: Json, baseDir: string, env: NodeJS.ProcessEnv): string {
  if (typeof ref.env === 'string') {
    const value = env[ref.env]
    if (value === undefined || value === '') throw new Error(`environment variable ${ref.env} is not set`)
    return value
  }
  const path = resolve(baseDir, ref.file as string)
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
}

function loadCredentialFile(file: string, defaultScheme: SigningScheme, env: NodeJS.ProcessEnv, into: Map<string, Credential>, problems: Problem[]): void {
  const doc = SourceDocument.read(file)
  const invalid = schemaProblems(doc, validateCredentials)
  if (invalid.length > 0) {
    problems.push(...invalid)
    return
  }
  const baseDir = dirname(file)
  ;((doc.value as Json).credentials as Json[]).forEach((entry, index) => {
    const at = (key: string | undefined, message: string) => problems.push(doc.problem(['credentials', index, ...(key ? [key] : [])], message))
    const scheme = { ...defaultScheme, ...(entry.scheme as Partial<SigningScheme> | undefined) }
    const keyField = scheme.algorithm === 'hmac' ? 'secret' : 'publicKey'
    const otherField = keyField === 'secret' ? 'publicKey' : 'secret'
    if (entry[otherField] !== undefined) return at(otherField, `${scheme.algorithm} credentials take "${keyField}", not "${otherField}"`)
    if (entry[keyField] === undefined) return at(undefined, `missing "${keyField}" for a ${scheme.algorithm} credential`)
    let apiKey: string
    let key: string
    try {
      apiKey = typeof entry.apiKey === 'string' ? entry.apiKey : readRef(entry.apiKey as Json, baseDir, env).trim()
    } catch (err) {
      return at('apiKey', (err as Error).message)
    }
    try {
      key = typeof entry[keyField] === 'string' ? (entry[keyField] as string) : readRef(entry[keyField] as Json, baseDir, env)
    } catch (err) {
      return at(keyField, (err as Error).message)
    }
    if (into.has(apiKey)) return at('apiKey', 'this API key is already configured')
    try {
      const credential = buildCredential(
        apiKey,
        {
          id: entry.id as string | undefined,
          enabled: entry.enabled as boolean | undefined,
          subject: entry.subject as string,
          accounts: entry.accounts as string[] | undefined,
          key,
          scheme: entry.scheme as Partial<SigningScheme> | undefined,
        },
        defaultScheme,
      )
      for (const other of into.values()) if (other.id === credential.id) return at('id', `credential id "${credential.id}" is used twice`)
      into.set(apiKey, credential)
    } catch (err) {
      if (err instanceof SchemeError) err.problems.forEach((p) => at('scheme', `${p.field}: ${p.message}`))
      else if (err instanceof KeyError) at(keyField, err.message)
      else throw err
    }
  })
}
