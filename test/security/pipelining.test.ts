import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Backend } from '../helpers/backend.js'
import { hmac, startGateway } from '../helpers/gateway.js'
import { head, hmacHeaders, RawConnection } from '../helpers/raw.js'

/**
 * Attack review: a signed POST with garbage pipelined behind it on the same
 * connection. The POST ran (a deposit address was made) but the client saw only
 * the parser's 400, written ahead of the POST's answer. The answer in progress
 * goes out first now, then the connection closes.
 */
const backend = await Backend.start(() => ({ status: 201, body: { id: 'made' }, delayMs: 100 }))
const gateway = await startGateway({
  config: { auth: hmac.auth, upstream: { url: backend.url }, mappings: ['mappings.yaml'] },
  credentials: [{ apiKey: 'test-key', secret: { env: 'S' }, subject: 'u' }],
  env: hmac.env,
  files: { 'mappings.yaml': 'routes:\n  - route: POST /accounts/{accountId}/transfers/deposits/addresses\n    upstream: { post: /addresses, body: $body }\n    response: { id: $body.id }\n' },
})
t.teardown(async () => {
  await gateway.close()
  await backend.close()
})

t.test('garbage behind a request being answered does not take its answer', async (t) => {
  const target = '/v2/accounts/a/transfers/deposits/addresses'
  const body = JSON.stringify({ idempotencyKey: randomUUID() })
  const auth = hmacHeaders('s', 'POST', target.slice(3), body)
  const connection = await RawConnection.open(Number(new URL(gateway.url).port))
  t.teardown(() => connection.close())
  await connection.write(head('POST', target, { ...auth, 'Content-Type': 'application/json', 'Content-Length': body.length }) + body + 'GARBAGE\r\n\r\n')
  const answer = await connection.answer()
  t.equal(answer.status, 200, `the POST's own answer comes first: ${answer.raw.slice(0, 80)}`)
  t.same(answer.json, { id: 'made' })
  t.equal(backend.requests.length, 1)
  t.ok(await connection.waitFor(() => connection.isClosed), 'then the connection closes')
})
