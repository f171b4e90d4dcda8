import t from 'tap'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/load.js'
import { ConfigError, formatProblem } from '../../src/config/problems.js'
import { tempDir } from '../helpers/temp.js'
import { makeAuthority } from '../helpers/tls.js'

function write(files: Record<string, string>): string {
  const dir = tempDir('nlgw-config-')
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return join(dir, 'gateway.yaml')
}

function problems(file: string, env: Record<string, string> = {}): string[] {
  try {
    loadConfig(file, env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => formatProblem(p).replace(/^.*?(gateway|credentials)\.yaml/, '$1.yaml'))
    throw err
  }
  return []
}

const valid = `server:
  basePath: /v2
auth:
  scheme: { algorithm: hmac, hash: sha256, preEncoding: plain, postEncoding: base64 }
  credentials:
    - file: credentials.yaml
upstream:
  url: http://127.0.0.1:8010
`
const creds = `credentials:
  - id: fireblocks
    apiKey: key-1
    secret: { env: NL_SECRET }
    subject: user-1
`

t.test('a valid config loads with defaults and environment overrides', async (t) => {
  const config = loadConfig(write({ 'gateway.yaml': valid, 'credentials.yaml': creds }), { NL_SECRET: 's', PORT: '8123', REDIS_URL: 'redis://127.0.0.1:6399', LOG_LEVEL: 'warn' })
  t.equal(config.server.port, 8123)
  t.equal(config.server.host, '127.0.0.1')
  t.equal(config.metrics.port, 9464)
  t.same(config.redis, { url: 'redis://127.0.0.1:6399', commandTimeoutMs: 1000, durability: 'async', waitTimeoutMs: 250 })
  t.equal(config.logging.level, 'warn')
  t.equal(config.auth.timestampWindowMs, 300_000)
  t.equal(config.auth.nonceTtlMs, 0, 'no minimum nonce retention: a nonce is kept while its timestamp is acceptable')
  t.equal(config.auth.base58BodyLimit, 8192)
  t.same(config.auth.cache, { ttlMs: 60_000, negativeTtlMs: 5_000, maxEntries: 10_000, maxUnknown: 10_000 })
  t.equal(config.upstream.subjectHeader, 'x-nlgw-subject')
  t.equal(config.auth.credentials.get('key-1')?.id, 'fireblocks')
  t.match(config.hash, /^[0-9a-f]{64}$/)
})

t.test('mistakes are reported together, each with file:line:col and a hint', async (t) => {
  const file = write({
    'gateway.yaml': `server:
  prot: 8000
auth:
  scheme: { algorithm: hmac, hash: sha265, preEncoding: plain, postEncoding: url-encoded }
  timestampWindow: 5 minutes
  credentials:
    - file: credentials.yaml
    - ldap: {}
upstream:
  url: ftp://legacy
`,
    'credentials.yaml': creds,
  })
  t.same(problems(file), [
    'gateway.yaml:2:3: server.prot: unknown key "prot" (did you mean "port"?)',
    'gateway.yaml:4:36: auth.scheme.hash: "sha265" is not allowed (did you mean "sha256"?); expected one of sha256, sha512, sha3-256',
    'gateway.yaml:4:78: auth.scheme.postEncoding: "url-encoded" is not allowed; expected one of base64, hexstr, base58, base32',
    'gateway.yaml:5:20: auth.timestampWindow: must be a duration such as 300ms, 5s, 5m, 72h, 3d, or a number of milliseconds',
    'gateway.yaml:8:7: auth.credentials[1]: a credential source is { file: PATH }, { redis: { prefix } } or { http: { url, timeout, headers } }',
    'gateway.yaml:10:8: upstream.url: "ftp://legacy" must match pattern "^https?://[^/?#]+/?$"',
  ])
})

t.test('credentials: inline secrets refused, missing env named, wrong key kinds placed', async (t) => {
  // Mistakes the loader finds once the file's structure is valid, one credential each.
  const mistakes = `  - apiKey: b
    secret: { env: MISSING_SECRET }
    subject: u
  - apiKey: c
    publicKey: { file: nowhere.pem }
    subject: u
    scheme: { algorithm: rsa }
  - apiKey: d
    publicKey: "-----BEGIN PUBLIC KEY-----\\nnot a key\\n-----END PUBLIC KEY-----"
    subject: u
    scheme: { algorithm: ecdsa, hash: sha512 }
  - apiKey: e
    secret: { env: NL_SECRET }
    subject: u
  - apiKey: e
    secret: { env: NL_SECRET }
    subject: u
  - apiKey: f
    publicKey: { env: NL_SECRET }
    subject: u
`
  const file = write({ 'gateway.yaml': valid, 'credentials.yaml': `credentials:\n  - apiKey: a\n    secret: hunter2\n    subject: u\n${mistakes}` })
  t.same(problems(file, { NL_SECRET: 's' }), ['credentials.yaml:3:13: credentials[0].secret: must be { env: VARIABLE } or { file: PATH }'], 'an inline secret stops the file at the schema')
  writeFileSync(file.replace('gateway.yaml', 'credentials.yaml'), `credentials:\n${mistakes}`)
  const found = problems(file, { NL_SECRET: 's' })
  t.match(found[0], /^credentials\.yaml:3:13: credentials\[0\]\.secret: environment variable MISSING_SECRET is not set$/)
  t.match(found[1], /^credentials\.yaml:6:16: credentials\[1\]\.publicKey: cannot read .*nowhere\.pem: ENOENT$/)
  t.match(found[2], /^credentials\.yaml:12:13: credentials\[2\]\.scheme: hash: ECDSA is defined with sha256 only, not sha512$/)
  t.match(found[3], /^credentials\.yaml:16:13: credentials\[4\]\.apiKey: this API key is already configured$/)
  t.match(found[4], /^credentials\.yaml:20:16: credentials\[5\]\.publicKey: hmac credentials take "secret", not "publicKey"$/)
  t.equal(found.length, 5)
})

t.test('redis.durability: replicated needs a WAIT shorter than the command timeout', async (t) => {
  const file = (redis: string) => write({ 'gateway.yaml': `${valid}redis:\n${redis}`, 'credentials.yaml': creds })
  t.same(loadConfig(file('  url: redis://r:6379\n  durability: replicated\n  waitTimeout: 100ms\n'), { NL_SECRET: 's' }).redis, { url: 'redis://r:6379', commandTimeoutMs: 1000, durability: 'replicated', waitTimeoutMs: 100 })
  t.same(problems(file('  url: redis://r:6379\n  durability: replicated\n  commandTimeout: 500ms\n  waitTimeout: 500ms\n'), { NL_SECRET: 's' }), [
    'gateway.yaml:13:16: redis.waitTimeout: must be shorter than redis.commandTimeout',
  ])
  t.same(problems(file('  url: redis://r:6379\n  durability: replicate\n'), { NL_SECRET: 's' }), [
    'gateway.yaml:11:15: redis.durability: "replicate" is not allowed (did you mean "replicated"?); expected one of async, replicated',
  ])
})

t.test('idempotency.lock is at least 1s: a claim renewed every third of it must not lapse between renewals', async (t) => {
  const file = (lock: string) => write({ 'gateway.yaml': `${valid}idempotency:\n  lock: ${lock}\n`, 'credentials.yaml': creds })
  t.equal(loadConfig(file('1s'), { NL_SECRET: 's' }).idempotency.lockMs, 1000)
  t.match(problems(file('300ms'), { NL_SECRET: 's' }), [/idempotency\.lock: must be at least 1s/])
  t.match(problems(file('0ms'), { NL_SECRET: 's' }), [/idempotency\.lock: must be at least 1s/])
})

t.test('auth.nonceTtl is a minimum retention; outbound listeners off loopback need a token', async (t) => {
  const file = write({ 'gateway.yaml': valid.replace('  credentials:', '  timestampWindow: 5m\n  nonceTtl: 6m\n  credentials:'), 'credentials.yaml': creds })
  t.equal(loadConfig(file, { NL_SECRET: 's' }).auth.nonceTtlMs, 360_000)

  const outbound = (extra: string) =>
    write({
      'gateway.yaml': `${valid}outbound:\n  target: http://127.0.0.1:9/v1\n  apiKey: k\n  scheme: { algorithm: hmac, hash: sha256, preEncoding: plain, postEncoding: base64 }\n  key: { env: NL_SECRET }\n${extra}`,
      'credentials.yaml': creds,
    })
  t.same(problems(outbound('  host: 0.0.0.0\n')), [
    'gateway.yaml:10:3: outbound: missing required key "allow"',
  ], 'the allow-list is required: nothing is forwarded by default')
  t.same(problems(outbound('  host: 0.0.0.0\n  allow: ["GET /collateral/**"]\n'), { NL_SECRET: 's' }), [
    'gateway.yaml:14:9: outbound.host: listening on 0.0.0.0 needs outbound.token (a bearer token the backend sends) or outbound.tls.requestClientCert (a client certificate); without either, keep the listener on loopback (127.0.0.1, ::1)',
  ])
  t.same(problems(outbound('  allow: ["GET /collateral/**"]\n'), { NL_SECRET: 's', OUTBOUND_HOST: '10.0.0.5' }).map((p) => p.replace(/:\d+:\d+:/, ':')), [
    'gateway.yaml: outbound.host: listening on 10.0.0.5 needs outbound.token (a bearer token the backend sends) or outbound.tls.requestClientCert (a client certificate); without either, keep the listener on loopback (127.0.0.1, ::1)',
  ], 'OUTBOUND_HOST is checked the same way')
  t.same(problems(outbound('  host: 0.0.0.0\n  allow: ["GET /collateral/**"]\n  token: { env: TOKEN }\n'), { NL_SECRET: 's', TOKEN: 'short' }), [
    'gateway.yaml:16:10: outbound.token: the token must be at least 16 characters',
  ])
  const loaded = loadConfig(outbound('  host: 0.0.0.0\n  allow: ["GET /collateral/**"]\n'), { NL_SECRET: 's', NLGW_OUTBOUND_TOKEN: 'a-long-enough-token' })
  t.equal(loaded.outbound?.token, 'a-long-enough-token', 'NLGW_OUTBOUND_TOKEN supplies the token from the environment')
})

t.test('environment values are checked too; unreadable and non-YAML files are reported', async (t) => {
  const file = write({ 'gateway.yaml': valid, 'credentials.yaml': creds })
  t.same(problems(file, { NL_SECRET: 's', PORT: 'eighty' }), ['environment: PORT: "eighty" is not a port number'])
  t.match(problems(join(tmpdir(), 'no-such-dir', 'gateway.yaml'))[0], /gateway\.yaml: cannot read: ENOENT/)
  t.match(problems(write({ 'gateway.yaml': 'auth: [unclosed' }))[0], /^gateway\.yaml:1:7: this \[ is never closed: add the \] that ends it/)
})

t.test('edge settings: certificates read and checked where they are named, address lists, budgets, tracing', async (t) => {
  const ca = makeAuthority()
  const server = ca.issue('server', 'server')
  const other = ca.issue('other', 'server')
  const edge = (serverKeys: string, rest = '', credentials = creds) =>
    write({
      'gateway.yaml': valid.replace('server:\n  basePath: /v2\n', `server:\n  basePath: /v2\n${serverKeys}`) + rest,
      'credentials.yaml': credentials,
      'ca.crt': ca.cert,
      'server.crt': server.cert,
      'server.key': server.key,
      'other.key': other.key,
    })
  const env = { NL_SECRET: 's' }

  const loaded = loadConfig(
    edge(
      '  tls: { cert: server.crt, key: server.key, ca: ca.crt, requestClientCert: true }\n  allow: [203.0.113.0/24, "2001:db8::/32", 198.51.100.7]\n  trustedProxies: [10.0.0.0/8]\n',
      'rateLimit:\n  perCredential: { max: 600, burst: 20 }\n  refusedPerAddress: { max: 30, window: 5m }\ntracing:\n  endpoint: http://127.0.0.1:4318/v1/traces\n',
      creds + '    tlsSubject: { CN: fireblocks-nl }\n',
    ),
    env,
  )
  t.equal(loaded.server.tls?.cert, server.cert, 'the PEM text, read from the file')
  t.equal(loaded.server.tls?.requestClientCert, true)
  t.same(loaded.server.allow, ['203.0.113.0/24', '2001:db8::/32', '198.51.100.7'])
  t.same(loaded.rateLimit, { perCredential: { max: 600, windowMs: 60_000, burst: 20 }, refusedPerAddress: { max: 30, windowMs: 300_000 } })
  t.same(loaded.tracing, { endpoint: 'http://127.0.0.1:4318/v1/traces', sampleRatio: 1, serviceName: 'network-link-gateway', headers: {} })
  t.same(loaded.auth.credentials.get('key-1')?.tlsSubject, { CN: 'fireblocks-nl' })

  t.same(
    problems(edge('  tls: { cert: server.crt, key: other.key, requestClientCert: true }\n  allow: [10.0.0.0/33, "::1/129", "::/0", "::ffff:203.0.113.0/120", "::ffff:0:0/97", "2001:db8::/32", "::/96"]\n'), env),
    [
      'gateway.yaml:3:63: server.tls.requestClientCert: mutual TLS needs ca: the CA client certificates must be signed by',
      'gateway.yaml:3:8: server.tls: the certificate, key or CA cannot be used: error:05800074:x509 certificate routines::key values mismatch',
      'gateway.yaml:4:11: server.allow[0]: "10.0.0.0/33" is not an IP address or a CIDR block such as 203.0.113.0/24 or 2001:db8::/32',
      'gateway.yaml:4:24: server.allow[1]: "::1/129" is not an IP address or a CIDR block such as 203.0.113.0/24 or 2001:db8::/32',
      'gateway.yaml:4:35: server.allow[2]: "::/0" reaches into ::ffff:0:0/96, the form a dual-stack listener gives IPv4 clients, so it would match IPv4 clients: write IPv4 blocks as IPv4 (203.0.113.0/24), and IPv6 blocks that leave that range out',
      'gateway.yaml:4:43: server.allow[3]: "::ffff:203.0.113.0/120" reaches into ::ffff:0:0/96, the form a dual-stack listener gives IPv4 clients, so it would match IPv4 clients: write IPv4 blocks as IPv4 (203.0.113.0/24), and IPv6 blocks that leave that range out',
      'gateway.yaml:4:69: server.allow[4]: "::ffff:0:0/97" reaches into ::ffff:0:0/96, the form a dual-stack listener gives IPv4 clients, so it would match IPv4 clients: write IPv4 blocks as IPv4 (203.0.113.0/24), and IPv6 blocks that leave that range out',
    ],
  )
  t.match(problems(edge('  tls: { cert: missing.crt, key: server.key }\n'), env), [/server\.tls\.cert: cannot read .*missing\.crt: ENOENT$/])
  t.match(problems(edge('', '', creds + '    tlsSubject: { CN: fireblocks-nl }\n'), env), [/auth\.credentials\[0\]: credentials with tlsSubject need mutual TLS: server\.tls\.requestClientCert$/])
  const plainUpstream = edge('')
  writeFileSync(plainUpstream, valid.replace('  url: http://127.0.0.1:8010\n', '  url: http://127.0.0.1:8010\n  tls: { ca: ca.crt }\n'))
  t.match(problems(plainUpstream, env), [/upstream\.tls: applies to an https:\/\/ upstream\.url only$/], 'TLS settings for a plain-HTTP backend are a mistake, not ignored')
})
