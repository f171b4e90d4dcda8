import { connect, type Socket } from 'node:net'
import t, { type Test } from 'tap'
import { Agent } from 'undici'
import { Backend } from '../helpers/backend.js'
import { send, type SendOptions } from '../helpers/client.js'
import { hmac, startGateway, type TestGateway } from '../helpers/gateway.js'
import { until } from '../helpers/poll.js'
import { RedisServer } from '../helpers/redis.js'

const backend = await Backend.start()
t.teardown(() => backend.close())
const mapping = 'routes:\n  - route: GET /capabilities\n    upstream: { get: /caps }\n    response: { version: "1", components: {} }\n'

async function limitedGateway(t: Test, rateLimit: Record<string, unknown>, redis?: RedisServer, commandTimeout = '300ms'): Promise<TestGateway> {
  const gateway = await startGateway({
    host: '::',
    config: {
      ...(redis ? { redis: { url: redis.url, commandTimeout } } : {}),
      server: { host: '::', port: 0, basePath: '/v2' },
      rateLimit,
      auth: hmac.auth,
      upstream: { url: backend.url },
      mappings: ['mappings.yaml'],
    },
    credentials: hmac.credentials,
    env: hmac.env,
    files: { 'mappings.yaml': mapping },
  })
  t.teardown(() => gateway.close())
  return gateway
}

const signed = (gateway: TestGateway, extra: Partial<SendOptions> = {}) => send(gateway.url, { path: '/v2/capabilities', key: hmac.key, ...extra })
const forged = (gateway: TestGateway, extra = {}) => signed(gateway, { key: { hmac: 'wrong', hash: 'sha256' }, ...extra })
const unknownKey = (gateway: TestGateway, extra = {}) => signed(gateway, { apiKey: 'guessed-key', ...extra })
const statuses = async (requests: Array<() => Promise<{ status: number }>>) => {
  const out: number[] = []
  for (const request of requests) out.push((await request()).status)
  return out
}
const times = <T>(n: number, make: () => T) => Array.from({ length: n }, make)
const counted = async (gateway: TestGateway) =>
  Object.fromEntries(((await gateway.metrics.registry.getSingleMetric('nlgw_rate_limit_refusals_total')?.get())?.values ?? []).map((v) => [v.labels.reason, v.value]))

t.test('per credential, in memory: the budget is spent only by proven requests; 429 with Retry-After, then the next window', async (t) => {
  const gateway = await limitedGateway(t, { perCredential: { max: 3, window: '1s' } })
  const before = backend.requests.length
  t.same(await statuses(times(4, () => () => forged(gateway))), [401, 401, 401, 401], 'forged requests are refused by the signature…')
  t.same(await statuses(times(3, () => () => signed(gateway))), [200, 200, 200], '…and spend nothing of the real key’s budget')
  const limited = await signed(gateway)
  t.equal(limited.status, 429)
  t.same(limited.json, { message: 'Rate limit exceeded for this API key, retry later', errorType: 'bad-request' })
  t.match(limited.headers['retry-after'], /^1$/, 'Retry-After: the rest of the window, in seconds')
  t.equal(backend.requests.length - before, 3, 'the limited request reached nothing')
  t.same(await counted(gateway), { refused_address: 0, credential: 1, store_unavailable: 0 })
  await until(async () => (await signed(gateway)).status === 200, { timeoutMs: 3000, everyMs: 100, what: 'a new window' })
})

t.test('per credential, a burst: at most `burst` in one second, whatever is left of the budget', async (t) => {
  const gateway = await limitedGateway(t, { perCredential: { max: 100, window: '1m', burst: 2 } })
  // A window starts at its key's first request: the three fall into one second unless the machine stalls for one.
  t.same(await statuses(times(3, () => () => signed(gateway))), [200, 200, 429])
})

t.test('refused requests per source address: a guesser is slowed down before anything is parsed; other addresses are not', async (t) => {
  const gateway = await limitedGateway(t, { refusedPerAddress: { max: 3, window: '1m' } })
  const guesser = new Agent({ localAddress: '127.0.0.2' })
  const neighbour = new Agent({ localAddress: '127.0.0.3' })
  t.teardown(async () => {
    await guesser.close()
    await neighbour.close()
  })
  t.same(await statuses(times(5, () => () => signed(gateway, { dispatcher: guesser }))), [200, 200, 200, 200, 200], 'served requests do not count')
  t.same(await statuses(times(3, () => () => unknownKey(gateway, { dispatcher: guesser }))), [401, 401, 401])
  const slowed = await signed(gateway, { dispatcher: guesser })
  t.equal(slowed.status, 429, 'then even a valid request from that address waits')
  t.same(slowed.json, { message: 'Too many refused requests from this address, retry later', errorType: 'bad-request' })
  t.ok(Number(slowed.headers['retry-after']) > 50 && Number(slowed.headers['retry-after']) <= 60, `Retry-After ${slowed.headers['retry-after']}`)
  t.equal((await signed(gateway, { dispatcher: guesser, path: '/v2/%61' })).status, 429, 'before the target is parsed (not 400)')
  t.same(await statuses([() => signed(gateway, { dispatcher: neighbour }), () => unknownKey(gateway, { dispatcher: neighbour })]), [200, 401], 'another address has its own budget')
  t.same(await counted(gateway), { refused_address: 2, credential: 0, store_unavailable: 0 })
})

/**
 * Requests with an unknown key from `localAddress`, written at once: `perConnection`
 * pipelined on each of `connections` connections opened first. The statuses answered.
 */
async function atOnce(gateway: TestGateway, localAddress: string, connections: number, perConnection: number): Promise<number[]> {
  const port = Number(new URL(gateway.url).port)
  const request = `GET /v2/capabilities HTTP/1.1\r\nhost: x\r\nx-fbapi-key: guessed-key\r\nx-fbapi-timestamp: ${Date.now()}\r\nx-fbapi-nonce: n\r\nx-fbapi-signature: AA==\r\n\r\n`
  const sockets = await Promise.all(times(connections, () => new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket)).on('error', reject)
  })))
  let received = ''
  for (const socket of sockets) socket.on('data', (chunk) => (received += chunk.toString('latin1')))
  for (const socket of sockets) socket.write(request.repeat(perConnection))
  // Each answer's status line follows the last one's body directly.
  const statuses = () => [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
  const count = connections * perConnection
  await until(() => statuses().length === count, { timeoutMs: 10_000, what: `${count} answers` })
  for (const socket of sockets) socket.destroy()
  return statuses()
}

t.test('a burst of refusals sent at once, pipelined or over many connections, gets no more through than the budget', async (t) => {
  const redis = await RedisServer.start()
  t.teardown(() => redis.stop())
  for (const [store, extra] of [['memory', undefined], ['Redis', redis]] as const) {
    const gateway = await limitedGateway(t, { refusedPerAddress: { max: 5, window: '1m' } }, extra)
    for (const [address, connections, perConnection] of [['127.0.0.5', 40, 1], ['127.0.0.6', 1, 40]] as const) {
      const before = (await counted(gateway)).refused_address ?? 0
      const answered = await atOnce(gateway, address, connections, perConnection)
      const tally = [answered.filter((s) => s === 401).length, answered.filter((s) => s === 429).length]
      t.same(tally, [5, 35], `${store}, ${connections} connection(s) × ${perConnection}: 5 refused by the key check, 35 slowed`)
      t.equal((await counted(gateway)).refused_address - before, 35)
      t.equal((await atOnce(gateway, address, 1, 1))[0], 429, 'and the address stays slowed')
    }
  }
})

t.test('clients that leave while the budget is being read give their places back: their address is not locked out', async (t) => {
  const redis = await RedisServer.start()
  t.teardown(() => redis.stop())
  const gateway = await limitedGateway(t, { refusedPerAddress: { max: 5, window: '1m' } }, redis, '3s')
  const port = Number(new URL(gateway.url).port)
  const admin = redis.client()
  t.teardown(() => admin.disconnect())
  await until(() => admin.status === 'ready', { what: 'the admin connection' })
  // Redis answers nothing for a second: each request waits in its first hook, and its client gives up meanwhile.
  await admin.call('CLIENT', 'PAUSE', '1000', 'ALL')
  const sockets = await Promise.all(times(6, () => new Promise<Socket>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.7' }, () => {
      socket.write('GET /v2/capabilities HTTP/1.1\r\nhost: x\r\nx-fbapi-key: guessed-key\r\nx-fbapi-timestamp: 1\r\nx-fbapi-nonce: n\r\nx-fbapi-signature: AA==\r\n\r\n')
      resolve(socket)
    })
  })))
  // Nothing to poll while Redis is paused: give the gateway a moment to read the six requests.
  const read = Date.now() + 300
  await until(() => Date.now() > read, { what: 'the requests read' })
  for (const socket of sockets) socket.destroy()
  const dispatcher = new Agent({ localAddress: '127.0.0.7' })
  t.teardown(() => dispatcher.close())
  await until(async () => (await signed(gateway, { dispatcher })).status === 200, { timeoutMs: 5000, everyMs: 100, what: 'the address served once Redis answers' })
  t.equal((await signed(gateway, { dispatcher })).status, 200, 'and it stays served')
})

t.test('two gateways sharing Redis enforce one budget; Redis down is a 503, and they recover without a restart', async (t) => {
  const redis = await RedisServer.start()
  const limits = { perCredential: { max: 4, window: '1m' }, refusedPerAddress: { max: 3, window: '1m' } }
  const [a, b] = [await limitedGateway(t, limits, redis), await limitedGateway(t, limits, redis)] as [TestGateway, TestGateway]
  t.teardown(() => redis.stop())
  t.same(await statuses([() => signed(a), () => signed(b), () => signed(a), () => signed(b), () => signed(a), () => signed(b)]), [200, 200, 200, 200, 429, 429], 'four in all, across both')

  const guesser = new Agent({ localAddress: '127.0.0.4' })
  t.teardown(() => guesser.close())
  t.same(await statuses([() => unknownKey(a, { dispatcher: guesser }), () => unknownKey(b, { dispatcher: guesser }), () => forged(a, { dispatcher: guesser })]), [401, 401, 401])
  t.equal((await unknownKey(b, { dispatcher: guesser })).status, 429, 'refusals on one gateway count on the other')
  const admin = redis.client()
  const keys = await admin.keys('nlgw:rate:*')
  admin.disconnect()
  t.equal(keys.length, 2, `one counter per budget in Redis: ${keys.join(', ')}`)

  await redis.stop()
  const down = await signed(a, { dispatcher: guesser })
  t.equal(down.status, 503, 'fail closed')
  t.same(down.json, { message: 'Rate limit store unavailable, try again', errorType: 'internal-error' })
  t.same(await counted(a), { refused_address: 0, credential: 1, store_unavailable: 1 })
  await redis.start()
  await until(async () => (await unknownKey(a)).status === 401, { timeoutMs: 10_000, everyMs: 100, what: 'service after Redis is back' })
})
