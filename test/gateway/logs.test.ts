import t from 'tap'
import { Writable } from 'node:stream'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify } from 'yaml'
import type { LoggerOptions } from 'pino'
import { loadConfig } from '../../src/config/load.js'
import { createGateway } from '../../plugins/gateway.js'
import { loggerOptions } from '../../src/logging.js'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac } from '../helpers/gateway.js'
import { RedisServer } from '../helpers/redis.js'
import { tempDir } from '../helpers/temp.js'

const lines: string[] = []
const stream = new Writable({
  write(chunk, _encoding, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean))
    done()
  },
})
const backend = await Backend.start(() => ({ body: { wallets: [] }, delayMs: 20 }))
const dir = tempDir('nlgw-logs-')
writeFileSync(join(dir, 'credentials.yaml'), stringify({ credentials: [{ id: 'fireblocks-main', apiKey: 'THE-API-KEY-VALUE', secret: { env: 'SECRET' }, subject: 'u' }] }))
writeFileSync(join(dir, 'mappings.yaml'), 'routes:\n  - route: GET /accounts/{accountId}/balances\n    upstream: { get: "/w/{accountId}" }\n    response: { balances: $body.wallets }\n')
writeFileSync(
  join(dir, 'gateway.yaml'),
  stringify({
    server: { basePath: '/v2' },
    auth: hmac.auth,
    upstream: { url: backend.url },
    mappings: ['mappings.yaml'],
  }),
)
const gateway = await createGateway(loadConfig(join(dir, 'gateway.yaml'), { SECRET: 'THE-HMAC-SECRET' }), {
  logger: { ...loggerOptions({ level: 'info', pretty: false, buffer: 0 }), stream } as LoggerOptions,
})
await gateway.app.listen({ host: '127.0.0.1', port: 0 })
const url = `http://127.0.0.1:${(gateway.app.server.address() as { port: number }).port}`
t.teardown(async () => {
  await gateway.close()
  await backend.close()
})

t.test('one access-log line per request, with route, status, durations, key id and refusal reason', async (t) => {
  const key = { hmac: 'THE-HMAC-SECRET', hash: 'sha256' } as const
  const ok = await send(url, { path: '/v2/accounts/acc-1/balances', key, apiKey: 'THE-API-KEY-VALUE' })
  const bad = await send(url, { path: '/v2/accounts/acc-1/balances', key: { hmac: 'nope', hash: 'sha256' }, apiKey: 'THE-API-KEY-VALUE' })
  t.same([ok.status, bad.status], [200, 401])
  await new Promise((r) => setTimeout(r, 50))
  const access = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request')
  t.equal(access.length, 2)
  t.match(access[0], { route: '/accounts/{accountId}/balances', method: 'GET', status: 200, key: 'fireblocks-main', ms: Number, upstreamMs: Number })
  t.ok((access[0]?.upstreamMs as number) >= 15, 'the backend call time is logged separately')
  t.match(access[1], { status: 401, key: 'fireblocks-main', reason: 'bad_signature' })
  const everything = lines.join('\n')
  t.notOk(everything.includes('THE-API-KEY-VALUE'), 'the API key is never logged, only the credential id')
  t.notOk(everything.includes('THE-HMAC-SECRET'), 'the secret is never logged')
  t.notMatch(everything, /x-fbapi-signature"\s*:\s*"[A-Za-z0-9+/=]{20,}/i, 'no signature in the logs')
})

t.test('a store failure is logged once with its cause, not the cause twice', async (t) => {
  const redis = await RedisServer.start()
  const config = join(dir, 'redis-gateway.yaml')
  writeFileSync(config, stringify({ server: { basePath: '/v2' }, redis: { url: redis.url, commandTimeout: '300ms' }, auth: hmac.auth, upstream: { url: backend.url }, mappings: ['mappings.yaml'] }))
  const withRedis = await createGateway(loadConfig(config, { SECRET: 'THE-HMAC-SECRET' }), { logger: { ...loggerOptions({ level: 'info', pretty: false, buffer: 0 }), stream } as LoggerOptions })
  await withRedis.app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(async () => {
    await withRedis.close()
    await redis.stop()
  })
  await redis.stop()
  const from = lines.length
  const res = await send(`http://127.0.0.1:${(withRedis.app.server.address() as { port: number }).port}`, { path: '/v2/accounts/acc-1/balances', key: { hmac: 'THE-HMAC-SECRET', hash: 'sha256' }, apiKey: 'THE-API-KEY-VALUE' })
  t.equal(res.status, 503)
  const failure = lines
    .slice(from)
    .map((l) => JSON.parse(l) as { level: number; msg: string; err?: { message: string } })
    .find((l) => l.level === 50)
  t.equal(failure?.msg, 'Authentication store unavailable, try again')
  t.match(failure?.err?.message, /^Redis nonce store unavailable: \S/, 'what failed, then why')
  t.notMatch(failure?.err?.message, /: (.+): \1$/, `the cause once (${failure?.err?.message})`)
})
