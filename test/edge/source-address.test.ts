import t from 'tap'
import { Agent } from 'undici'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac, startGateway } from '../helpers/gateway.js'

/**
 * Real sockets from several loopback addresses: 127.0.0.1 and ::1 are allowed, 127.0.0.2 is a
 * stranger, 127.0.0.3 a trusted proxy (allowed only for whom it forwards).
 */
const backend = await Backend.start()
const gateway = await startGateway({
  host: '::',
  config: {
    server: { host: '::', port: 0, basePath: '/v2', allow: ['127.0.0.1', '::1/128', '192.0.2.0/24'], trustedProxies: ['127.0.0.3'] },
    auth: hmac.auth,
    upstream: { url: backend.url },
    mappings: ['mappings.yaml'],
  },
  credentials: hmac.credentials,
  env: hmac.env,
  files: { 'mappings.yaml': 'routes:\n  - route: GET /capabilities\n    upstream: { get: /caps }\n    response: { version: "1", components: {} }\n' },
})
const from = (localAddress: string) => new Agent({ localAddress })
const agents = { allowed: from('127.0.0.1'), stranger: from('127.0.0.2'), proxy: from('127.0.0.3'), ipv6: from('::1') }
t.teardown(async () => {
  await Promise.all(Object.values(agents).map((a) => a.close()))
  await gateway.close()
  await backend.close()
})

const ask = (dispatcher: Agent, headers: Record<string, string | undefined> = {}, url = gateway.url, path = '/v2/capabilities') => send(url, { path, key: hmac.key, dispatcher, headers })
const refusals = async () =>
  Object.fromEntries(((await gateway.metrics.registry.getSingleMetric('nlgw_source_refusals_total')?.get())?.values ?? []).map((v) => [v.labels.reason, v.value]))

t.test('allowed addresses are served, IPv4 and IPv6', async (t) => {
  t.equal((await ask(agents.allowed)).status, 200)
  t.equal((await ask(agents.ipv6, {}, gateway.url.replace('127.0.0.1', '[::1]'))).status, 200, 'from ::1')
})

t.test('any other address is refused first: before its headers or its target are looked at', async (t) => {
  const before = backend.requests.length
  const refused = await ask(agents.stranger)
  t.equal(refused.status, 403)
  t.same(refused.json, { message: 'Source address not allowed: ::ffff:127.0.0.2', errorType: 'unauthorized' })
  const unsigned = await ask(agents.stranger, { 'x-fbapi-key': undefined, 'x-fbapi-signature': undefined })
  t.equal(unsigned.status, 403, 'not 401: the headers were never read')
  const nonCanonical = await ask(agents.stranger, {}, gateway.url, '/v2/%61ccounts')
  t.equal(nonCanonical.status, 403, 'not 400: the target was never parsed')
  t.equal(backend.requests.length, before, 'nothing reached the backend')
  t.same(await refusals(), { peer_not_allowed: 3, forwarded_not_allowed: 0 })
})

t.test('X-Forwarded-For names the client only when a trusted proxy sends it', async (t) => {
  t.equal((await ask(agents.stranger, { 'x-forwarded-for': '127.0.0.1' })).status, 403, 'a stranger cannot claim an allowed address')
  t.equal((await ask(agents.allowed, { 'x-forwarded-for': '198.51.100.7' })).status, 200, 'nor can an allowed peer be made to look like a stranger')

  t.equal((await ask(agents.proxy, { 'x-forwarded-for': '192.0.2.10' })).status, 200, 'the proxy forwards for an allowed client')
  const forwarded = await ask(agents.proxy, { 'x-forwarded-for': '198.51.100.7' })
  t.equal(forwarded.status, 403)
  t.equal(forwarded.json.message, 'Forwarded source address not allowed: 198.51.100.7')
  t.equal((await ask(agents.proxy, { 'x-forwarded-for': '192.0.2.10, 198.51.100.7' })).status, 403, 'the client cannot prepend an allowed address: the proxy appended the real one')
  t.equal((await ask(agents.proxy, { 'x-forwarded-for': 'not-an-address' })).status, 403, 'an entry that is not an address is not allowed')
  t.equal((await ask(agents.proxy)).status, 403, 'without X-Forwarded-For the client is the proxy itself, which is not allowed')
  t.same(await refusals(), { peer_not_allowed: 4, forwarded_not_allowed: 4 })
})
