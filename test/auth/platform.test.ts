import t from 'tap'
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { startGateway, hmac } from '../helpers/gateway.js'
import { independent } from '../helpers/independent.js'
import { makeKeys } from '../helpers/keys.js'

/** Fireblocks signs with RSA PKCS#1 v1.5 over SHA-512, base64 — here with the openssl CLI. */
const current = makeKeys('rsa')
const next = makeKeys('rsa')
const stranger = makeKeys('rsa')
const backend = await Backend.start()
const gateway = await startGateway({
  config: {
    auth: {
      scheme: hmac.auth.scheme,
      credentials: [{ file: 'credentials.yaml' }],
      platformSignature: { publicKeys: [{ file: current.publicPath }, readFileSync(next.publicPath, 'utf8')] },
    },
    upstream: { url: backend.url, passthrough: '/nl' },
  },
  credentials: [
    { apiKey: 'test-key', secret: { env: 'S' }, subject: 'u' },
    { apiKey: 'same-customer-key', secret: { env: 'S2' }, subject: 'u' },
    { apiKey: 'other-customer-key', secret: { env: 'S2' }, subject: 'v' },
  ],
  env: { S: 's', S2: 's2' },
})
t.teardown(async () => {
  await gateway.close()
  await backend.close()
})
const key = { hmac: 's', hash: 'sha256' } as const
const path = '/v2/accounts/acc-1/collateral/c1.c2.c3/deposits'

function platformSignature(privatePath: string, timestamp: string, nonce: string, body: string): string {
  const message = Buffer.from(`${timestamp}${nonce}POST${path.slice(3)}${body}`)
  const [signed] = independent([{ op: 'sign', algorithm: 'rsa', hash: 'sha512', pre: 'plain', post: 'base64', key: privatePath, message }])
  return signed?.signature as string
}

async function deposit(signer: string | undefined, signedBody = '{"amount":"1"}', sentBody = signedBody) {
  const timestamp = String(Date.now())
  const nonce = randomUUID()
  const headers = signer ? { 'x-fb-platform-signature': platformSignature(signer, timestamp, nonce, signedBody) } : {}
  return send(gateway.url, { method: 'POST', path, key, timestamp, nonce, body: sentBody, headers })
}

t.test('valid with the current key and with the next (rotation)', async (t) => {
  t.equal((await deposit(current.privatePath)).status, 200)
  t.equal((await deposit(next.privatePath)).status, 200)
  t.equal(backend.requests.length, 2)
  t.equal(backend.requests[0]?.headers['x-fb-platform-signature'], undefined, 'not forwarded upstream')
})

t.test('missing, wrong key, tampered body: refused, counted, nothing forwarded', async (t) => {
  const before = backend.requests.length
  const missing = await deposit(undefined)
  t.same([missing.status, missing.json], [400, { message: 'Missing X-FB-PLATFORM-SIGNATURE header', errorType: 'schema-property-error', propertyName: 'X-FB-PLATFORM-SIGNATURE', requestPart: 'headers' }])
  const wrong = await deposit(stranger.privatePath)
  t.same([wrong.status, wrong.json], [401, { message: 'Fireblocks platform signature verification failed', errorType: 'unauthorized', requestPart: 'headers' }])
  const tampered = await deposit(current.privatePath, '{"amount":"1"}', '{"amount":"1000"}')
  t.equal(tampered.status, 401, 'the platform signature covers the body the gateway received')
  t.equal(backend.requests.length, before)
  const refusals = (await gateway.metrics.registry.getSingleMetric('nlgw_auth_refusals_total')?.get())?.values.find((v) => v.labels.reason === 'platform_signature')
  t.equal(refusals?.value, 3)
})

t.test('one platform-signed message is executed once, whichever credential presents it (attack review)', async (t) => {
  const timestamp = String(Date.now())
  const nonce = randomUUID()
  const body = '{"amount":"1"}'
  const platform = { 'x-fb-platform-signature': platformSignature(current.privatePath, timestamp, nonce, body) }
  const before = backend.requests.length
  t.equal((await send(gateway.url, { method: 'POST', path, key, timestamp, nonce, body, headers: platform })).status, 200)
  // The same message, re-signed with another credential (the platform signature does not cover the API key).
  for (const apiKey of ['same-customer-key', 'other-customer-key']) {
    const replay = await send(gateway.url, { method: 'POST', path, apiKey, key: { hmac: 's2', hash: 'sha256' }, timestamp, nonce, body, headers: platform })
    t.same([replay.status, replay.json?.message], [401, 'Nonce already used'], `re-signed by ${apiKey}`)
  }
  t.equal(backend.requests.length, before + 1, 'executed once')
})

t.test('a nonce is remembered per customer: another credential of the same customer cannot reuse it', async (t) => {
  const timestamp = String(Date.now())
  const nonce = randomUUID()
  t.equal((await send(gateway.url, { path: '/v2/accounts/acc-1/balances', key, timestamp, nonce })).status, 200)
  const again = await send(gateway.url, { path: '/v2/accounts/acc-1/balances', apiKey: 'same-customer-key', key: { hmac: 's2', hash: 'sha256' }, timestamp, nonce })
  t.equal(again.status, 401)
  const elsewhere = await send(gateway.url, { path: '/v2/accounts/acc-1/balances', apiKey: 'other-customer-key', key: { hmac: 's2', hash: 'sha256' }, timestamp, nonce })
  t.equal(elsewhere.status, 200, "another customer's nonces are its own")
})

t.test('routes outside the collateral set do not need it', async (t) => {
  t.equal((await send(gateway.url, { path: '/v2/accounts/acc-1/balances', key })).status, 200)
  t.equal((await send(gateway.url, { path: '/v2/accounts/acc-1/collateral', key })).status, 404, 'the collateral root is no Network Link route: refused before anything')
  t.equal((await send(gateway.url, { method: 'POST', path: '/v2/accounts/acc-1/collateral/link', key, body: '{}' })).status, 400, 'every route under it needs the signature')
})

t.test('a reload rotates the platform keys without a restart', async (t) => {
  const { writeFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { stringify, parse } = await import('yaml')
  const file = join(gateway.dir, 'gateway.yaml')
  const config = parse(readFileSync(file, 'utf8')) as { auth: { platformSignature: { publicKeys: unknown[] } } }
  config.auth.platformSignature.publicKeys = [readFileSync(stranger.publicPath, 'utf8')]
  writeFileSync(file, stringify(config))
  const result = gateway.reload(gateway.env)
  t.same(result.ok && result.restartNeeded, [], 'nothing waits for a restart')
  t.equal((await deposit(stranger.privatePath)).status, 200, 'the new key verifies')
  t.equal((await deposit(current.privatePath)).status, 401, 'the retired key no longer does')
})
