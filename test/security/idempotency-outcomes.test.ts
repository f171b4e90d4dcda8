import t from 'tap'
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway } from '../helpers/gateway.js'
import { until } from '../helpers/poll.js'

/**
 * Attack review: a backend slower than the gateway's timeout got a 504, the key was
 * released, and each retry of the same withdrawal paid out again. A gateway's 5xx is
 * not always the backend's: the key is held while the outcome is unknown, kept when
 * the backend acted and only the translation failed, and released only when the
 * backend surely did nothing.
 */
let mode: 'slow' | 'acted-untranslatable' | 'ok' = 'ok'
const backend = await Backend.start(() =>
  mode === 'slow' ? { status: 201, body: { id: 'late' }, delayMs: 600 } : mode === 'acted-untranslatable' ? { status: 201, body: { amount: 'not a number' } } : { status: 201, body: { id: 'w-1', amount: '1' } },
)
const mapping = `routes:
  - route: POST /accounts/{accountId}/transfers/withdrawals/blockchain
    upstream: { post: /payouts, body: $body, timeout: 300ms }
    response: { id: $body.id, amount: { $decimal: $body.amount } }
`
const gateway = await startGateway({
  config: { auth: hmac.auth, upstream: { url: backend.url }, mappings: ['mappings.yaml'], idempotency: { lock: '3s' } },
  credentials: [{ apiKey: 'test-key', secret: { env: 'S' }, subject: 'u' }],
  env: hmac.env,
  files: { 'mappings.yaml': mapping },
})
t.teardown(async () => {
  await gateway.close()
  await backend.close()
})
const withdrawAt = (url: string, key: string, timeoutMs = 10_000) => Promise.race([
  send(url, { method: 'POST', path: '/v2/accounts/a/transfers/withdrawals/blockchain', key: hmac.key, body: JSON.stringify({ idempotencyKey: key, amount: '1' }) }),
  new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs)),
])
const withdraw = (key: string, timeoutMs = 10_000) => withdrawAt(gateway.url, key, timeoutMs)
const payouts = () => backend.requests.filter((r) => r.url === '/payouts').length

t.test('a timeout after the request was sent holds the key: no second execution while the lock lasts', async (t) => {
  mode = 'slow'
  const key = randomUUID()
  const before = payouts()
  t.equal((await withdraw(key))?.status, 504)
  mode = 'ok'
  const retry = await withdraw(key)
  t.same([retry?.status, retry?.json], [503, { message: 'A request with this idempotency key is still being processed, retry later', errorType: 'internal-error' }], 'a retry during the hold is refused at once, not executed')
  t.equal(payouts(), before + 1, 'the backend saw one payout')
  // Once the lock has expired the key is free again: the withdrawal runs (once more; the backend should deduplicate by the key it is given).
  await until(async () => (await withdraw(key))?.status === 200, { timeoutMs: 8000, everyMs: 200, what: 'the held key to be released by its lock' })
  t.equal(payouts(), before + 2)
})

t.test('the success status of the backend arrived and its body never did: it acted, so the answer is kept, even past the lock', async (t) => {
  let payoutsSeen = 0
  // A backend that sends 201 and its headers, then stalls the body past the gateway's timeout.
  const stalling = createServer((_req, res) => {
    payoutsSeen++
    res.writeHead(201, { 'content-type': 'application/json', 'content-length': '64' })
    res.write('{"id":')
  })
  await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    stalling.closeAllConnections()
    stalling.close()
  })
  const stalled = await startGateway({
    config: { auth: hmac.auth, upstream: { url: `http://127.0.0.1:${(stalling.address() as { port: number }).port}` }, mappings: ['mappings.yaml'], idempotency: { lock: '1s' } },
    credentials: [{ apiKey: 'test-key', secret: { env: 'S' }, subject: 'u' }],
    env: hmac.env,
    files: { 'mappings.yaml': mapping },
  })
  t.teardown(() => stalled.close())
  const key = randomUUID()
  const send = () => withdrawAt(stalled.url, key)
  const first = await send()
  t.equal(first?.status, 504)
  const lockOver = Date.now() + 1500
  await until(() => Date.now() > lockOver, { timeoutMs: 3000, what: 'the lock gone by' })
  const retry = await send()
  t.same([retry?.status, retry?.text], [504, first?.text], 'the retry gets the kept answer')
  t.equal(payoutsSeen, 1, 'one payout')
})

t.test('the backend acted and only the translation failed: the 502 is kept, retries are never executed', async (t) => {
  mode = 'acted-untranslatable'
  const key = randomUUID()
  const before = payouts()
  const first = await withdraw(key)
  t.equal(first?.status, 502)
  mode = 'ok'
  const retry = await withdraw(key)
  t.same([retry?.status, retry?.text], [502, first?.text], 'the same answer, from the store')
  t.equal(payouts(), before + 1)
})

t.test('the backend refused the connection: nothing happened, the key is released and a retry runs', async (t) => {
  const key = randomUUID()
  const down = await startGateway({
    // A held key would make the retry wait the whole lock: the test would time out.
    config: { auth: hmac.auth, upstream: { url: 'http://127.0.0.1:9' }, mappings: ['mappings.yaml'], idempotency: { lock: '10m' } },
    credentials: [{ apiKey: 'test-key', secret: { env: 'S' }, subject: 'u' }],
    env: hmac.env,
    files: { 'mappings.yaml': mapping },
  })
  t.teardown(() => down.close())
  const first = await send(down.url, { method: 'POST', path: '/v2/accounts/a/transfers/withdrawals/blockchain', key: hmac.key, body: JSON.stringify({ idempotencyKey: key, amount: '1' }) })
  t.equal(first.status, 502)
  const retry = await send(down.url, { method: 'POST', path: '/v2/accounts/a/transfers/withdrawals/blockchain', key: hmac.key, body: JSON.stringify({ idempotencyKey: key, amount: '1' }) })
  t.equal(retry.status, 502, 'run again at once (and refused again), not held')
})
