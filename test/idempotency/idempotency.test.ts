import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Backend, type RecordedRequest } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { type TestGateway, hmac, startGateway } from '../helpers/gateway.js'
import { Link } from '../helpers/link.js'
import { until } from '../helpers/poll.js'
import { RedisServer } from '../helpers/redis.js'

/** A payout backend: every execution gets a new id, so a replay is recognisable. */
let executions = 0
function payouts(req: RecordedRequest) {
  const body = JSON.parse(req.body.toString() || '{}') as { amount?: string }
  executions++
  if (body.amount === '0') return { status: 422, body: { error: 'AMOUNT_TOO_SMALL' } }
  if (body.amount === '500') return { status: 503, body: { error: 'DOWN' } }
  if (body.amount === 'second') return { status: 201, delayMs: 1000, body: { payout_id: randomUUID(), amount: body.amount } }
  if (body.amount === 'slow') return { status: 201, delayMs: 2600, body: { payout_id: randomUUID(), amount: body.amount } }
  return { status: 201, delayMs: 150, body: { payout_id: randomUUID(), amount: body.amount } }
}

const mapping = `routes:
  - route: POST /accounts/{accountId}/transfers/withdrawals/blockchain
    upstream: { post: /payouts, body: { amount: $body.amount } }
    status: 201
    errors:
      - when: { status: 422 }
        errorType: amount-below-minimum
        message: too small
      - when: { status: 503 }
        status: 503
        errorType: internal-error
        message: backend down
    response: { id: $body.payout_id, amount: $body.amount }
`
const backend = await Backend.start(payouts)
const redis = await RedisServer.start()
t.teardown(async () => {
  await backend.close()
  await redis.stop()
})

async function gatewayWith(store: 'memory' | 'redis', extra: Record<string, unknown> = {}): Promise<TestGateway> {
  return startGateway({
    config: {
      ...(store === 'redis' ? { redis: { url: redis.url } } : {}),
      auth: hmac.auth,
      upstream: { url: backend.url },
      mappings: ['mappings.yaml'],
      ...extra,
    },
    credentials: [
      { id: 'a', apiKey: 'key-a', secret: { env: 'S' }, subject: 'u' },
      { id: 'b', apiKey: 'key-b', secret: { env: 'S' }, subject: 'v' },
    ],
    env: { S: 's' },
    files: { 'mappings.yaml': mapping },
  })
}

const key = hmac.key
const path = '/v2/accounts/acc-1/transfers/withdrawals/blockchain'
const post = (gateway: TestGateway, body: object, apiKey = 'key-a') => send(gateway.url, { method: 'POST', path, key, apiKey, body: JSON.stringify(body) })

for (const store of ['memory', 'redis'] as const) {
  t.test(`${store} store`, async (t) => {
    const gateway = await gatewayWith(store)
    t.teardown(() => gateway.close())

    t.test('a retry gets exactly the first response without reaching the backend', async (t) => {
      const idempotencyKey = randomUUID()
      const before = executions
      const first = await post(gateway, { idempotencyKey, amount: '1.5' })
      t.equal(first.status, 201)
      const retry = await post(gateway, { amount: '1.5', idempotencyKey }) // same JSON, other key order
      t.same([retry.status, retry.text], [first.status, first.text])
      t.equal(executions - before, 1, 'one execution')
      const replays = (await gateway.metrics.registry.getSingleMetric('nlgw_idempotent_replays_total')?.get())?.values[0]?.value
      t.equal(replays, 1)
      t.equal((await post(gateway, { idempotencyKey, amount: '1.5' }, 'key-b')).status, 201, 'keys are scoped per credential')
      const elsewhere = await send(gateway.url, { method: 'POST', path: path.replace('acc-1', 'acc-2'), key, apiKey: 'key-a', body: JSON.stringify({ idempotencyKey, amount: '9' }) })
      t.equal(elsewhere.status, 201, 'and per target: the same key on another account is another request')
    })

    t.test('the same key with a different request is refused', async (t) => {
      const idempotencyKey = randomUUID()
      await post(gateway, { idempotencyKey, amount: '1' })
      const before = executions
      const reuse = await post(gateway, { idempotencyKey, amount: '2' })
      t.same([reuse.status, reuse.json], [400, { message: 'This idempotency key was used for a different request', errorType: 'idempotency-key-reuse', propertyName: 'idempotencyKey', requestPart: 'body' }])
      t.equal(executions, before)
    })

    t.test('a 4xx is kept; a 5xx holds the key for the lock (the backend may have acted before it failed), then a retry runs', async (t) => {
      const small = randomUUID()
      const refused = await post(gateway, { idempotencyKey: small, amount: '0' })
      const before = executions
      const again = await post(gateway, { idempotencyKey: small, amount: '0' })
      t.same([again.status, again.text], [refused.status, refused.text])
      t.equal(refused.status, 400)
      t.equal(executions, before, 'the 4xx retry did not reach the backend')
      const short = await gatewayWith(store, { idempotency: { lock: '1s' } })
      t.teardown(() => short.close())
      const down = randomUUID()
      t.equal((await post(short, { idempotencyKey: down, amount: '500' })).status, 503)
      const beforeRetry = executions
      const inProgress = 'A request with this idempotency key is still being processed, retry later'
      t.equal((await post(short, { idempotencyKey: down, amount: '500' })).json.message, inProgress, 'a retry meanwhile is refused')
      t.equal(executions, beforeRetry, 'and never reaches the backend')
      await until(async () => (await post(short, { idempotencyKey: down, amount: '500' })).json.message !== inProgress, { timeoutMs: 5000, everyMs: 100, what: 'the hold lapsed' })
      t.equal(executions - beforeRetry, 1, 'after the lock the retry ran again')
    })
  })
}

t.test('a backend call that outlasts idempotency.lock keeps its key: a retry meanwhile is no second execution', async (t) => {
  for (const store of ['memory', 'redis'] as const) {
    const gateway = await gatewayWith(store, { idempotency: { lock: '1s' } })
    t.teardown(() => gateway.close())
    const idempotencyKey = randomUUID()
    const before = executions
    const first = post(gateway, { idempotencyKey, amount: 'slow' })
    await until(() => executions > before, { what: 'the first request at the backend' })
    const lockOver = Date.now() + 2000
    await until(() => Date.now() > lockOver, { timeoutMs: 3000, what: 'twice the lock gone by' })
    const retry = await post(gateway, { idempotencyKey, amount: 'slow' }, 'key-a')
    const answered = await first
    t.equal(answered.status, 201)
    t.ok(retry.status === 503 || retry.text === answered.text, `${store}: the retry waits, then is told the first is in progress (${retry.status}), or gets its answer`)
    t.equal(executions - before, 1, `${store}: one execution`)
  }
})

t.test('a timeout after the request was sent holds the key, in either store: a retry is refused at once, not run', async (t) => {
  for (const store of ['memory', 'redis'] as const) {
    const gateway = await gatewayWith(store, { upstream: { url: backend.url, timeout: '300ms' }, idempotency: { lock: '1m' } })
    t.teardown(() => gateway.close())
    const idempotencyKey = randomUUID()
    const before = executions
    t.equal((await post(gateway, { idempotencyKey, amount: 'slow' })).status, 504, `${store}: the backend did not answer in time`)
    const retry = await post(gateway, { idempotencyKey, amount: 'slow' })
    t.equal(retry.status, 503, `${store}: the retry is refused at once`)
    t.equal(executions - before, 1, `${store}: one execution`)
  }
})

t.test('an idempotencyKey the guard cannot use is refused before the backend, with or without the OpenAPI document', async (t) => {
  const gateway = await gatewayWith('memory')
  t.teardown(() => gateway.close())
  const before = executions
  for (const [what, body] of [
    ['a number', { idempotencyKey: 4242, amount: '1' }],
    ['an array', { idempotencyKey: ['k'], amount: '1' }],
    ['empty', { idempotencyKey: '', amount: '1' }],
    ['null', { idempotencyKey: null, amount: '1' }],
  ] as const) {
    const res = await post(gateway, body)
    t.same([res.status, res.json?.propertyName, res.json?.requestPart], [400, '/idempotencyKey', 'body'], `${what}: 400`)
  }
  t.equal(executions, before, 'nothing reached the backend')
})

t.test('Redis out of reach when the backend answers: the answer is kept once Redis is back, and a retry gets it', async (t) => {
  const link = await Link.to(redis.port)
  t.teardown(() => link.close())
  const gateway = await gatewayWith('redis', { redis: { url: link.url }, idempotency: { lock: '4s' } })
  t.teardown(() => gateway.close())
  const idempotencyKey = randomUUID()
  const before = executions
  const first = post(gateway, { idempotencyKey, amount: 'second' })
  await until(() => executions > before, { what: 'the withdrawal at the backend' })
  link.cut()
  // Back after the backend has answered (1 s), well inside the lock.
  const back = Date.now() + 1500
  await until(() => Date.now() > back, { timeoutMs: 3000, what: 'Redis out of reach for a while' })
  link.restore()
  const answered = await first
  t.equal(answered.status, 201, 'the client is told what the backend did')
  const retry = await post(gateway, { idempotencyKey, amount: 'second' })
  t.same([retry.status, retry.text], [201, answered.text], 'the retry gets the same answer, from the store')
  t.equal(executions - before, 1, 'one execution')
})

t.test('20 concurrent duplicates at two instances sharing Redis: one backend execution', async (t) => {
  const gateways = [await gatewayWith('redis'), await gatewayWith('redis')]
  t.teardown(() => Promise.all(gateways.map((g) => g.close())))
  const idempotencyKey = randomUUID()
  const before = executions
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => post(gateways[i % 2] as TestGateway, { idempotencyKey, amount: '7' })))
  t.equal(executions - before, 1, 'exactly one reached the backend')
  t.ok(results.every((r) => r.status === 201 && r.text === results[0]?.text), 'all twenty got the same response')
})

t.test('Redis down: idempotent requests fail closed, nothing reaches the backend', async (t) => {
  const gateway = await gatewayWith('redis')
  t.teardown(() => gateway.close())
  t.equal((await post(gateway, { idempotencyKey: randomUUID(), amount: '1' })).status, 201)
  await redis.stop()
  const before = executions
  const res = await post(gateway, { idempotencyKey: randomUUID(), amount: '1' })
  t.equal(res.status, 503)
  t.equal(executions, before)
  await redis.start()
})
