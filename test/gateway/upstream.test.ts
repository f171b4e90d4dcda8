import t from 'tap'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway } from '../helpers/gateway.js'

const key = hmac.key
const credentials = [{ apiKey: 'test-key', secret: { env: 'S' }, subject: 'legacy-42' }]

t.test('passthrough: the identity header is always the gateway\'s; other headers by allow-list; X-FBAPI headers stay behind unless configured', async (t) => {
  const backend = await Backend.start()
  t.teardown(() => backend.close())
  for (const forwardFbapiHeaders of [false, true]) {
    const gateway = await startGateway({
      config: { auth: hmac.auth, upstream: { url: backend.url, passthrough: '/internal/nl', subjectHeader: 'X-Legacy-User', forwardFbapiHeaders, forwardHeaders: ['X-Custom'] } },
      credentials,
      env: hmac.env,
    })
    const res = await send(gateway.url, {
      method: 'POST',
      path: '/v2/accounts/a%20b:c/transfers/withdrawals/blockchain?x=%20y',
      body: '{"amount":"1.10"}',
      key,
      headers: { 'x-legacy-user': 'admin', 'X-Legacy-User': 'root', 'x-custom': 'kept', 'x-backoffice-token': 'secret', cookie: 'session=1', connection: 'x-custom-hop', 'x-custom-hop': 'h' },
    })
    t.equal(res.status, 200)
    const seen = backend.requests.at(-1)
    t.equal(seen?.url, '/internal/nl/accounts/a%20b%3Ac/transfers/withdrawals/blockchain?x=%20y', 'the canonical path (re-encoded from its segments) and the query as received')
    t.equal(seen?.headers['x-legacy-user'], 'legacy-42', 'client copies of the identity header are replaced')
    t.equal(seen?.headers['x-custom'], 'kept', 'a header named in upstream.forwardHeaders is forwarded')
    t.equal(seen?.headers['x-backoffice-token'], undefined, 'other client headers are not')
    t.equal(seen?.headers.cookie, undefined)
    t.equal(seen?.headers['x-custom-hop'], undefined, 'nor headers the client marked connection-scoped')
    t.equal(seen?.body.toString(), '{"amount":"1.10"}', 'body forwarded byte for byte')
    t.equal(seen?.headers['x-fbapi-signature'] !== undefined, forwardFbapiHeaders, `X-FBAPI headers forwarded: ${forwardFbapiHeaders}`)
    await gateway.close()
  }
})

t.test('backend slow → 504, backend down → 502, both in Network Link format', async (t) => {
  // undici's timers tick about every half second: a passthrough deadline is good to about that.
  const backend = await Backend.start(() => ({ delayMs: 2500, body: { late: true } }))
  const gateway = await startGateway({ config: { auth: hmac.auth, upstream: { url: backend.url, passthrough: '/nl', timeout: '1s' } }, credentials, env: hmac.env })
  t.teardown(() => gateway.close())
  const slow = await send(gateway.url, { path: '/v2/accounts', key })
  t.equal(slow.status, 504)
  t.same(slow.json, { message: 'Backend did not answer in time', errorType: 'internal-error' })
  await backend.close()
  const down = await send(gateway.url, { path: '/v2/accounts', key })
  t.equal(down.status, 502)
  t.same(down.json, { message: 'Backend unavailable', errorType: 'internal-error' })
  const errors = (await gateway.metrics.registry.getSingleMetric('nlgw_upstream_errors_total')?.get())?.values
  t.same(Object.fromEntries((errors ?? []).filter((v) => v.value > 0).map((v) => [v.labels.reason, v.value])), { timeout: 1, unavailable: 1 })
})
