import t from 'tap'
import { createServer } from 'node:http'
import { generateKeyPairSync } from 'node:crypto'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { startGateway, hmac } from '../helpers/gateway.js'
import { RedisServer } from '../helpers/redis.js'

const backend = await Backend.start()
t.teardown(() => backend.close())
const hmacScheme = hmac.auth.scheme

t.test('file credentials: secrets from env and files, public keys inline or from files, per-credential schemes', async (t) => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
  const gateway = await startGateway({
    config: { auth: { scheme: hmacScheme, credentials: [{ file: 'credentials.yaml' }] }, upstream: { url: backend.url, passthrough: '/nl', subjectHeader: 'x-legacy-user' } },
    credentials: [
      { id: 'from-env', apiKey: 'k-env', secret: { env: 'HMAC_SECRET' }, subject: 'alice' },
      { id: 'from-file', apiKey: { env: 'FILE_KEY' }, secret: { file: 'hmac.secret' }, subject: 'bob' },
      { id: 'rsa', apiKey: 'k-rsa', publicKey: rsa.publicKey.export({ type: 'spki', format: 'pem' }), subject: 'carol', scheme: { algorithm: 'rsa', hash: 'sha512' } },
      { id: 'k1', apiKey: 'k-k1', publicKey: { file: 'k1.pub' }, subject: 'dave', scheme: { algorithm: 'ecdsa', hash: 'sha256', curve: 'secp256k1' } },
    ],
    env: { HMAC_SECRET: 'env-secret', FILE_KEY: 'k-file' },
    files: { 'hmac.secret': 'file-secret\n', 'k1.pub': k1.publicKey.export({ type: 'spki', format: 'pem' }) as string },
  })
  t.teardown(() => gateway.close())
  const cases = [
    { apiKey: 'k-env', key: { hmac: 'env-secret', hash: 'sha256' }, subject: 'alice' },
    { apiKey: 'k-file', key: { hmac: 'file-secret', hash: 'sha256' }, subject: 'bob' },
    { apiKey: 'k-rsa', key: { privateKey: rsa.privateKey, hash: 'sha512' }, subject: 'carol' },
    { apiKey: 'k-k1', key: { privateKey: k1.privateKey, hash: 'sha256' }, subject: 'dave' },
  ] as const
  for (const c of cases) {
    const res = await send(gateway.url, { path: '/v2/accounts', apiKey: c.apiKey, key: c.key })
    t.equal(res.status, 200, c.apiKey)
    t.equal(backend.requests.at(-1)?.headers['x-legacy-user'], c.subject, `${c.apiKey} acts as ${c.subject}`)
  }
  t.equal((await send(gateway.url, { path: '/v2/accounts', apiKey: 'k-rsa', key: { privateKey: rsa.privateKey, hash: 'sha256' } })).status, 401, 'the override hash is enforced')
})

t.test('Redis hash credentials', async (t) => {
  const redis = await RedisServer.start()
  const admin = redis.client()
  t.teardown(async () => {
    admin.disconnect()
    await redis.stop()
  })
  await admin.hset('nlgw:credential:redis-key', { id: 'from-redis', subject: 'erin', secret: 'redis-secret', accounts: 'acc-1, acc-2' })
  await admin.hset('nlgw:credential:off-key', { subject: 'frank', secret: 'x', enabled: 'false' })
  await admin.hset('nlgw:credential:broken-key', { subject: 'gina', secret: 'x', scheme: '{"algorithm":"ecdsa","hash":"sha512"}' })
  const gateway = await startGateway({
    config: { redis: { url: redis.url }, auth: { scheme: hmacScheme, credentials: [{ redis: { prefix: 'nlgw:credential:' } }] }, upstream: { url: backend.url, passthrough: '/nl' } },
  })
  t.teardown(() => gateway.close())
  const key = { hmac: 'redis-secret', hash: 'sha256' } as const
  t.equal((await send(gateway.url, { path: '/v2/accounts/acc-2/balances', apiKey: 'redis-key', key })).status, 200)
  t.equal(backend.requests.at(-1)?.headers['x-nlgw-subject'], 'erin', 'the default subject header')
  t.equal((await send(gateway.url, { path: '/v2/accounts/acc-3/balances', apiKey: 'redis-key', key })).status, 404, 'outside the account list')
  t.equal((await send(gateway.url, { path: '/v2/accounts', apiKey: 'off-key', key: { hmac: 'x', hash: 'sha256' } })).json.message, 'API key is disabled')
  const broken = await send(gateway.url, { path: '/v2/accounts', apiKey: 'broken-key', key: { hmac: 'x', hash: 'sha256' } })
  t.equal(broken.status, 500, 'a broken record fails closed')
  t.equal(broken.json.errorType, 'internal-error')
  t.equal((await send(gateway.url, { path: '/v2/accounts', apiKey: 'absent', key })).status, 401)
})

t.test('HTTP lookup: cached with a TTL, misses cached briefly, concurrent lookups coalesced, cache bounded', async (t) => {
  const lookups: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const { apiKey } = JSON.parse(body) as { apiKey: string }
      lookups.push(apiKey)
      setTimeout(() => {
        if (apiKey === 'http-key') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ subject: 'henry', secret: 'http-secret' }))
        else if (apiKey === 'flaky') res.writeHead(500).end()
        else res.writeHead(404).end()
      }, 20)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => server.close())
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/internal/api-keys/lookup`
  const gateway = await startGateway({
    config: {
      auth: { scheme: hmacScheme, credentials: [{ http: { url, timeout: '1s' } }], credentialCache: { ttl: '1m', negativeTtl: '1m', maxEntries: 50 } },
      upstream: { url: backend.url, passthrough: '/nl' },
    },
  })
  t.teardown(() => gateway.close())
  const key = { hmac: 'http-secret', hash: 'sha256' } as const
  const burst = await Promise.all(Array.from({ length: 10 }, () => send(gateway.url, { path: '/v2/accounts', apiKey: 'http-key', key })))
  t.ok(burst.every((r) => r.status === 200))
  t.equal(lookups.filter((k) => k === 'http-key').length, 1, 'ten concurrent requests, one lookup')
  await send(gateway.url, { path: '/v2/accounts', apiKey: 'http-key', key })
  t.equal(lookups.filter((k) => k === 'http-key').length, 1, 'served from the cache afterwards')
  await send(gateway.url, { path: '/v2/accounts', apiKey: 'nobody', key })
  await send(gateway.url, { path: '/v2/accounts', apiKey: 'nobody', key })
  t.equal(lookups.filter((k) => k === 'nobody').length, 1, 'a miss is cached too')
  t.equal((await send(gateway.url, { path: '/v2/accounts', apiKey: 'flaky', key })).status, 503, 'a failing lookup service fails closed')
  for (let i = 0; i < 200; i++) await send(gateway.url, { path: '/v2/accounts', apiKey: `bogus-${i}`, key })
  t.ok(gateway.credentials.cachedEntries <= 50, `cache stays within its bound (${gateway.credentials.cachedEntries})`)
})

t.test('algorithm confusion (attack review 7): a public key never becomes an HMAC secret, from any source', async (t) => {
  const publicKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }) as string
  // What anyone holding the public key would sign with, if the gateway took its text as the HMAC secret.
  const forged = { hmac: publicKey.replace(/\r?\n$/, ''), hash: 'sha256' } as const
  const redis = await RedisServer.start()
  const admin = redis.client()
  await admin.hset('nlgw:credential:pk-only', { subject: 'ivan', publicKey })
  await admin.hset('nlgw:credential:pk-as-hmac', { subject: 'ivan', publicKey, scheme: '{"algorithm":"hmac"}' })
  await admin.hset('nlgw:credential:pem-secret', { subject: 'ivan', secret: publicKey })
  await admin.hset('nlgw:credential:both', { subject: 'ivan', secret: 's', publicKey })
  // The PEM body without its armour (attack review 8): the same DER key.
  await admin.hset('nlgw:credential:der-secret', { subject: 'ivan', secret: publicKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '') })
  const lookup = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      const { apiKey } = JSON.parse(body) as { apiKey: string }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(apiKey === 'http-pem-secret' ? { subject: 'ivan', secret: publicKey } : { subject: 'ivan', publicKey }))
    })
  })
  await new Promise<void>((r) => lookup.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(lookup.address() as { port: number }).port}/lookup`
  const gateway = await startGateway({
    config: { redis: { url: redis.url }, auth: { scheme: hmacScheme, credentials: [{ redis: { prefix: 'nlgw:credential:' } }, { http: { url, timeout: '1s' } }] }, upstream: { url: backend.url, passthrough: '/nl' } },
  })
  t.teardown(async () => {
    await gateway.close()
    admin.disconnect()
    await redis.stop()
    lookup.close()
  })
  const before = backend.requests.length
  const armourless = { hmac: publicKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), hash: 'sha256' } as const
  for (const apiKey of ['pk-only', 'pk-as-hmac', 'pem-secret', 'both', 'der-secret', 'http-pk-only', 'http-pem-secret']) {
    const res = await send(gateway.url, { path: '/v2/accounts', apiKey, key: apiKey === 'der-secret' ? armourless : forged })
    t.same([res.status, res.json.errorType], [500, 'internal-error'], `${apiKey}: the record is refused as unusable, nothing signed with the public key passes`)
  }
  t.equal(backend.requests.length, before, 'nothing reached the backend')

  const file = startGateway({
    config: { auth: { scheme: hmacScheme, credentials: [{ file: 'credentials.yaml' }] }, upstream: { url: backend.url } },
    credentials: [{ apiKey: 'k', secret: { file: 'rsa.pub' }, subject: 'ivan' }],
    files: { 'rsa.pub': publicKey },
  })
  await t.rejects(file, /HMAC secret must not be a public key or certificate/, 'a credentials file naming a public key as the HMAC secret is refused at start-up')
})
