import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway, type TestGateway } from '../helpers/gateway.js'
import { until } from '../helpers/poll.js'
import { RedisServer } from '../helpers/redis.js'

/**
 * redis.durability on a real primary and replica. A frozen replica (SIGSTOP)
 * stands for one that has not got the write yet: with `replicated` nothing
 * counts until WAIT hears from it; with `async` the primary alone decides.
 */
const primary = await RedisServer.start()
const replica = await RedisServer.replicaOf(primary)
const backend = await Backend.start((req) => {
  if (req.method !== 'POST') return { body: { ok: true } }
  // Amount 13: the replica stops acknowledging while the backend executes, so the completed record cannot be confirmed.
  if (JSON.parse(req.body.toString()).amount === '13') replica.pause()
  return { status: 201, body: { payout_id: randomUUID() } }
})
const mapping = `routes:
  - route: POST /accounts/{accountId}/transfers/withdrawals/blockchain
    upstream: { post: /payouts, body: { amount: $body.amount } }
    status: 201
    response: { id: $body.payout_id }
`
const gatewayWith = (durability: 'async' | 'replicated') =>
  startGateway({
    config: {
      redis: { url: primary.url, durability, waitTimeout: '150ms' },
      auth: hmac.auth,
      upstream: { url: backend.url, passthrough: '/nl' },
      mappings: ['mappings.yaml'],
    },
    credentials: hmac.credentials,
    env: hmac.env,
    files: { 'mappings.yaml': mapping },
  })
const replicated = await gatewayWith('replicated')
const async = await gatewayWith('async')
t.teardown(async () => {
  replica.resume()
  await Promise.all([replicated.close(), async.close(), backend.close()])
  await Promise.all([replica.stop(), primary.stop()])
})

const key = hmac.key
const get = (gateway: TestGateway) => send(gateway.url, { path: '/v2/accounts', key })
const STORE_UNAVAILABLE = { message: 'Authentication store unavailable, try again', errorType: 'internal-error' }

t.test('replicated: a nonce counts only once the replica has it', async (t) => {
  const accepted = await get(replicated)
  t.equal(accepted.status, 200)
  const onReplica = replica.client()
  t.teardown(() => onReplica.disconnect())
  t.equal((await onReplica.keys(`nlgw:nonce:*:${accepted.nonce}`)).length, 1, 'the replica held the nonce when the answer came')

  replica.pause()
  const before = backend.requests.length
  const refused = await get(replicated)
  t.same([refused.status, refused.json], [503, STORE_UNAVAILABLE], 'no replica confirmation: refused, fail closed')
  t.equal(backend.requests.length, before, 'nothing reached the backend')
  t.equal((await get(async)).status, 200, 'async: the primary alone accepts it')

  replica.resume()
  await until(async () => (await get(replicated)).status === 200, { timeoutMs: 5000, everyMs: 50, what: 'accepted again once the replica acknowledges' })
})

t.test('replicated: an idempotency record no replica confirmed is retried, the client gets the answer of the backend, and a retry the stored one', async (t) => {
  const post = (body: object) => send(replicated.url, { method: 'POST', path: '/v2/accounts/a-1/transfers/withdrawals/blockchain', key, body: JSON.stringify(body) })
  const idempotencyKey = randomUUID()
  const executions = () => backend.requests.filter((r) => r.method === 'POST').length
  const before = executions()
  const first = post({ idempotencyKey, amount: '13' })
  await until(() => executions() > before, { what: 'executed, its record waiting for the replica' })
  replica.resume()
  const answered = await first
  t.equal(answered.status, 201, 'the record confirmed once the replica is back: the answer of the backend')
  const retry = await post({ idempotencyKey, amount: '13' })
  t.same([retry.status, retry.text], [201, answered.text], 'the retry gets it from the store')
  t.equal(executions() - before, 1, 'the backend executed it once')
})
