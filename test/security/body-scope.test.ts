import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway } from '../helpers/gateway.js'

/**
 * Attack review: a credential scoped to acc-1 named acc-2 in the body (a ramp's
 * `from.takeFrom`, a sub-account transfer's `destination.accountId`, a collateral
 * address's `recoveryAccountId`) and moved acc-2's money. Those fields are
 * scoped like the path: 404, and nothing reaches the backend. A peer account
 * (another customer's) is not the credential's to scope. Answers name no
 * account outside the scope either: a sub-account in scope shows no parent
 * that is not.
 */
const backend = await Backend.start((req) => (req.method === 'GET' ? { body: { id: 'acc-1', title: 'Desk', status: 'active', parentId: 'acc-0' } } : { status: 201, body: { id: 'x' } }))
const mapping = `routes:
  - route: GET /accounts/{accountId}
    upstream: { get: "/acct/{accountId}" }
    response: $body
  - route: POST /accounts/{accountId}/ramps
    upstream: { post: /ramps, body: $body }
    response: { id: $body.id }
  - route: POST /accounts/{accountId}/transfers/withdrawals/subaccount
    upstream: { post: /internal, body: $body }
    response: { id: $body.id }
  - route: POST /accounts/{accountId}/transfers/withdrawals/peeraccount
    upstream: { post: /peer, body: $body }
    response: { id: $body.id }
`
const gateways = await Promise.all(
  [{ mappings: ['mappings.yaml'] }, { upstream: { url: backend.url, passthrough: '/nl' } }].map((extra) =>
    startGateway({
      config: { auth: hmac.auth, upstream: { url: backend.url }, ...extra },
      credentials: [{ apiKey: 'test-key', secret: { env: 'S' }, subject: 'u', accounts: ['acc-1'] }],
      env: hmac.env,
      files: { 'mappings.yaml': mapping },
    }),
  ),
)
t.teardown(async () => {
  for (const g of gateways) await g.close()
  await backend.close()
})

const post = (url: string, path: string, body: object) => send(url, { method: 'POST', path: `/v2/accounts/acc-1${path}`, key: hmac.key, body: JSON.stringify({ idempotencyKey: randomUUID(), ...body }) })

for (const [name, gateway] of [['mapped', gateways[0]], ['passthrough', gateways[1]]] as const) {
  t.test(`${name}: an account named in the body is scoped like the path`, async (t) => {
    const url = gateway?.url as string
    const refused = [
      ['/ramps', { from: { takeFrom: 'acc-2' } }],
      ['/transfers/withdrawals/subaccount', { destination: { accountId: 'acc-2' } }],
    ] as const
    for (const [path, body] of refused) {
      const before = backend.requests.length
      const res = await post(url, path, body)
      t.same([res.status, res.json], [404, { message: 'Account not found', errorType: 'not-found' }], `${path} naming acc-2`)
      t.equal(backend.requests.length, before, 'nothing reached the backend')
    }
    t.equal((await post(url, '/ramps', { from: { takeFrom: 'acc-1' } })).status < 300, true, 'its own account may be named')
    t.equal((await post(url, '/transfers/withdrawals/subaccount', { destination: { accountId: 'acc-1' } })).status < 300, true)
    t.equal((await post(url, '/transfers/withdrawals/peeraccount', { destination: { accountId: 'someone-else' } })).status < 300, true, "a peer account is another customer's: not scoped")
  })
}

for (const [name, gateway] of [['mapped', gateways[0]], ['passthrough', gateways[1]]] as const) {
  t.test(`${name}: an account in scope names no parent outside it (attack review 7)`, async (t) => {
    const res = await send(gateway?.url as string, { path: '/v2/accounts/acc-1', key: hmac.key })
    t.same([res.status, res.json], [200, { id: 'acc-1', title: 'Desk', status: 'active' }], 'acc-0 named nowhere')
  })
}
