import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createSigner } from '../../src/signing/index.js'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { hmac } from '../helpers/gateway.js'
import { repoPath } from '../helpers/paths.js'
import { freePort } from '../helpers/ports.js'
import { until } from '../helpers/poll.js'
import { startServer, writeProject } from '../helpers/process.js'

/** The gateway as users run it: `node dist/plugins/server.js` with NLGW_CONFIG. */
const backend = await Backend.start(() => ({ body: { ok: true } }))
const mapping = (v: string) => `routes:\n  - route: GET /accounts/{accountId}/balances\n    upstream: { get: /x }\n    response: { balances: [], v: "${v}" }\n`
const dir = writeProject(
  { server: { basePath: '/v2' }, upstream: { url: backend.url }, mappings: ['mappings.yaml'], reload: { watch: true }, logging: { level: 'warn' } },
  { 'mappings.yaml': mapping('1') },
)
const server = await startServer(dir)
const { child, url, ops } = server
t.teardown(async () => {
  child.kill('SIGKILL')
  await backend.close()
})

const version = async () => (await send(url, { path: '/v2/accounts/a/balances', key: hmac.key })).json?.v as string | undefined
async function untilVersion(expected: string): Promise<string | undefined> {
  const end = Date.now() + 5000
  let v = await version()
  while (v !== expected && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50))
    v = await version()
  }
  return v
}

t.test('serves on PORT, health and metrics on METRICS_PORT', async (t) => {
  t.equal(await version(), '1', server.output())
  t.same(await (await fetch(`${ops}/healthz`)).json(), { status: 'ok' })
  t.equal((await fetch(`${ops}/readyz`)).status, 200)
  t.match(await (await fetch(`${ops}/metrics`)).text(), /nlgw_config_info\{hash="[0-9a-f]{12}-[0-9a-f]{12}"\} 1/)
})

t.test('no runtime warnings at start-up (deprecations included), with every part of the demo config loaded', async (t) => {
  t.notMatch(server.output(), /Warning|\(node:\d+\)/, 'minimal config')
  const outboundPort = await freePort()
  const demo = await startServer(repoPath('config/demo'), { env: { NLGW_CONFIG: repoPath('config/demo/gateway.yaml'), OUTBOUND_PORT: String(outboundPort), NLGW_PLATFORM_SIGNATURE: '1' } })
  t.teardown(() => demo.child.kill('SIGKILL'))
  t.equal((await fetch(`${demo.ops}/healthz`)).status, 200, demo.output())
  // The outbound listener answers, and a base58-signed body large enough for the worker thread starts that too.
  t.equal((await fetch(`http://127.0.0.1:${outboundPort}/nowhere`)).status, 403)
  const signer = createSigner({ algorithm: 'hmac', hash: 'sha3-256', preEncoding: 'base58', postEncoding: 'base32' }, readFileSync(repoPath('config/demo/keys/validator-hmac.secret')))
  const signed = await send(demo.url, { method: 'POST', path: '/v2/accounts/a/transfers/withdrawals/blockchain', apiKey: 'demo-hmac', signer, body: JSON.stringify({ pad: 'x'.repeat(2000) }) })
  t.not(signed.status, 401, 'verified (through the worker thread)')
  t.notMatch(demo.output(), /Warning|\(node:\d+\)/, `demo config on node ${process.version}`)
})

t.test('a changed mapping file is picked up by the watch; SIGHUP reloads too', async (t) => {
  writeFileSync(join(dir, 'mappings.yaml'), mapping('2'))
  t.equal(await untilVersion('2'), '2', 'file watch')
  writeFileSync(join(dir, 'mappings.yaml'), 'routes: [ { route: "GET /accounts/{accountId}/balances", response: $nope } ]\n')
  await until(() => /reload rejected; the previous config keeps serving/.test(server.output()), { what: 'the rejected reload' })
  t.equal(await version(), '2', 'an invalid change is rejected, the old set serves')
  t.match(server.output(), /unknown reference \$nope/)
  const reloads = async () => Number(/nlgw_config_reloads_total\{result="failure"\} (\d+)/.exec(await (await fetch(`${ops}/metrics`)).text())?.[1])
  const before = await reloads()
  child.kill('SIGHUP')
  t.equal(await until(async () => ((await reloads()) > before ? reloads() : undefined), { what: 'a SIGHUP reload' }), before + 1, 'SIGHUP reloads (and rejects the same invalid file)')
  t.equal(await version(), '2')
})

t.test('a bad config stops start-up with every problem and exit code 78', async (t) => {
  writeFileSync(join(dir, 'bad.yaml'), 'auth: { scheme: { algorithm: rsa } }\nupstream: { url: nope }\n')
  const bad = await startServer(dir, { env: { NLGW_CONFIG: join(dir, 'bad.yaml') } })
  t.equal(await bad.exited, 78)
  const err = bad.output()
  t.match(err, /bad\.yaml:1:17: auth\.scheme: missing required key "hash"/)
  t.match(err, /bad\.yaml:2:18: upstream\.url: "nope" must match pattern/)
  t.match(err, /missing required key "credentials"/)
})

t.test('in-memory store bounds the heap cannot hold stop start-up instead of crashing under load', async (t) => {
  writeFileSync(join(dir, 'huge.yaml'), `upstream: { url: "${backend.url}" }\nauth: { scheme: { algorithm: hmac, hash: sha256, preEncoding: plain, postEncoding: base64 }, credentials: [{ file: credentials.yaml }], nonceStore: { maxEntries: 2000000 } }\n`)
  const huge = await startServer(dir, { env: { NLGW_CONFIG: join(dir, 'huge.yaml'), NODE_OPTIONS: '--max-old-space-size=128 --max-semi-space-size=8' } })
  t.equal(await huge.exited, 78)
  t.match(huge.output(), /huge\.yaml: auth\.nonceStore\.maxEntries: without Redis, 2,000,000 nonces and 20,000 idempotency records \(idempotency\.maxEntries\) need about 363 MB of heap, more than half of this process's 152 MB/)
  // The same bounds with the heap to hold them start.
  const roomy = await startServer(dir, { env: { NLGW_CONFIG: join(dir, 'huge.yaml'), NODE_OPTIONS: '--max-old-space-size=1024' } })
  t.equal((await fetch(`${roomy.ops}/healthz`)).status, 200, roomy.output())
  roomy.child.kill('SIGKILL')
})
