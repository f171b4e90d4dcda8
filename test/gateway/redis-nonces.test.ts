import t from 'tap'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { RedisServer } from '../helpers/redis.js'

const redis = await RedisServer.start()
const backend = await Backend.start()
const config = {
  redis: { url: redis.url, commandTimeout: '300ms' },
  auth: { scheme: { algorithm: 'hmac', hash: 'sha512', preEncoding: 'plain', postEncoding: 'base64' }, credentials: [{ file: 'credentials.yaml' }] },
  upstream: { url: backend.url, passthrough: '/nl' },
}
const credentials = [{ id: 'fb', apiKey: 'test-key', secret: { env: 'SECRET' }, subject: 'u-1' }]
const setup = { config, credentials, env: { SECRET: 's' } }
const gateways: TestGateway[] = [await startGateway(setup), await startGateway(setup)]
const key = { hmac: 's', hash: 'sha512' } as const
t.teardown(async () => {
  await Promise.all(gateways.map((g) => g.close()))
  await backend.close()
  await redis.stop()
})

t.test('two gateways sharing Redis accept one signed request exactly once', async (t) => {
  // The same signed bytes (same timestamp and nonce), fired concurrently at both instances.
  const timestamp = String(Date.now())
  const nonce = crypto.randomUUID()
  const before = backend.requests.length
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => send((gateways[i % 2] as TestGateway).url, { method: 'POST', path: '/v2/accounts/a/transfers/withdrawals/blockchain', body: '{"amount":"1"}', key, timestamp, nonce })),
  )
  const statuses = results.map((r) => r.status)
  t.equal(statuses.filter((s) => s === 200).length, 1, 'exactly one accepted')
  t.equal(statuses.filter((s) => s === 401).length, 39, 'every other copy refused')
  t.ok(results.filter((r) => r.status === 401).every((r) => r.json.message === 'Nonce already used'))
  t.equal(backend.requests.length - before, 1, 'the backend saw it once')
})

t.test('unauthenticated requests write nothing to Redis and never reach the backend', async (t) => {
  const inspect = redis.client()
  t.teardown(() => inspect.disconnect())
  await inspect.flushall()
  const before = backend.requests.length
  const bad = await Promise.all([
    send(gateways[0]!.url, { path: '/v2/accounts', key: { hmac: 'wrong', hash: 'sha512' } }),
    send(gateways[1]!.url, { path: '/v2/accounts', apiKey: 'nobody', key }),
    send(gateways[0]!.url, { path: '/v2/accounts', key, timestamp: '1' }),
    send(gateways[1]!.url, { path: '/v2/accounts', key, headers: { 'x-fbapi-signature': '' } }),
    send(gateways[0]!.url, { method: 'POST', path: '/v2/accounts/acc-1/transfers/withdrawals/blockchain', key: { hmac: 'wrong', hash: 'sha512' }, body: '{"a":1}' }),
  ])
  t.same(bad.map((r) => r.status), [401, 401, 400, 400, 401])
  t.equal(await inspect.dbsize(), 0, 'no key written')
  t.equal(backend.requests.length, before, 'nothing forwarded')
})

t.test('Redis down: fail closed with 503, nothing forwarded; back up: service resumes in the same process', async (t) => {
  const [gateway] = gateways as [TestGateway]
  t.equal((await send(gateway.url, { path: '/v2/accounts', key })).status, 200)
  await redis.stop()
  const before = backend.requests.length
  for (let i = 0; i < 5; i++) {
    const res = await send(gateway.url, { path: '/v2/accounts', key })
    t.equal(res.status, 503)
    t.same(res.json, { message: 'Authentication store unavailable, try again', errorType: 'internal-error' })
  }
  t.equal(backend.requests.length, before, 'nothing reached the backend while Redis was down')
  const refused = (await gateway.metrics.registry.getSingleMetric('nlgw_auth_refusals_total')?.get())?.values.find((v) => v.labels.reason === 'store_unavailable')
  t.ok((refused?.value ?? 0) >= 5, 'counted as store_unavailable')

  await redis.start()
  const deadline = Date.now() + 10_000
  let status = 0
  while (Date.now() < deadline && status !== 200) {
    status = (await send(gateway.url, { path: '/v2/accounts', key })).status
    if (status !== 200) await new Promise((r) => setTimeout(r, 100))
  }
  t.equal(status, 200, 'accepted again without a restart')
})
