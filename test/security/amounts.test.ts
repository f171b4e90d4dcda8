import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway } from '../helpers/gateway.js'
import { MAX_DIGITS, toDecimalString, toMinorUnits } from '../../src/mapping/decimal.js'

/**
 * Attack review: `"balanceAmount": "1e100000000"` passes the spec's unanchored amount
 * pattern, and `$minor` turned it into a hundred-million-digit BigInt on the event
 * loop (45 s, then out of memory). Amounts are bounded to MAX_DIGITS on each side
 * of the point: the request is refused as not mappable, at once.
 */
t.test('exponents cannot buy digits', async (t) => {
  for (const text of ['1e100000000', '1e999999999', '-1e81', '1e-81', `1${'0'.repeat(MAX_DIGITS)}`]) {
    t.throws(() => toMinorUnits(text, 8), /more than 80 digits/, text)
    t.throws(() => toDecimalString(text), /more than 80 digits/, text)
  }
  t.equal(toMinorUnits('1e70', 8), 10n ** 78n, 'large but bounded amounts still convert')
  t.equal(toDecimalString('123456789012345678901234567890.123456789012345678', 0), '123456789012345678901234567890.123456789012345678')
  t.equal(toMinorUnits('0e999999999', 8), 0n, 'zero is zero, whatever its exponent')
})

t.test('over HTTP: refused with 400 before the backend, and the gateway keeps serving', async (t) => {
  const backend = await Backend.start(() => ({ status: 201, body: { id: 'w-1' } }))
  const gateway = await startGateway({
    config: { auth: hmac.auth, upstream: { url: backend.url }, mappings: ['mappings.yaml'] },
    credentials: [{ apiKey: 'test-key', secret: { env: 'S' }, subject: 'u' }],
    env: hmac.env,
    files: {
      'mappings.yaml': `routes:
  - route: POST /accounts/{accountId}/transfers/withdrawals/blockchain
    upstream: { post: /payouts, body: { amount_minor: { $minor: $body.balanceAmount, scale: 8 } } }
    response: { id: $body.id }
  - route: GET /capabilities
    response: { version: "0.1.1", components: {} }
`,
    },
  })
  t.teardown(async () => {
    await gateway.close()
    await backend.close()
  })
  const res = await send(gateway.url, { method: 'POST', path: '/v2/accounts/a/transfers/withdrawals/blockchain', key: hmac.key, body: JSON.stringify({ idempotencyKey: randomUUID(), balanceAmount: '1e100000000' }) })
  t.equal(res.status, 400)
  t.match(res.json, { errorType: 'bad-request', message: /more than 80 digits/ })
  t.equal(backend.requests.length, 0)
  t.equal((await send(gateway.url, { path: '/v2/capabilities', key: hmac.key })).status, 200, 'still serving')
})
