import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { request } from 'undici'
import { stringify } from 'yaml'
import { loadConfig } from '../../src/config/load.js'
import { createGateway, type Gateway } from '../../plugins/gateway.js'
import { PRE_ENCODINGS, POST_ENCODINGS } from '../../src/signing/index.js'
import { hmacSecretFile, makeKeys } from '../helpers/keys.js'
import { repoPath } from '../helpers/paths.js'
import { hmac } from '../helpers/gateway.js'
import { tempDir } from '../helpers/temp.js'

/** Fireblocks' side: a Python receiver that verifies each signature independently. */
const dir = tempDir('nlgw-outbound-')
const keys = { rsa: makeKeys('rsa', dir), prime256v1: makeKeys('prime256v1', dir), secp256k1: makeKeys('secp256k1', dir) }
const hmacFile = hmacSecretFile('outbound-secret', dir)
const portFile = join(dir, 'receiver.port')
const receiver = spawn('python3', [
  repoPath('test/fixtures/receiver.py'),
  portFile,
  JSON.stringify({ hmac: hmacFile, rsa: keys.rsa.publicPath, prime256v1: keys.prime256v1.publicPath, secp256k1: keys.secp256k1.publicPath }),
], { stdio: 'inherit' })
t.teardown(() => receiver.kill())
while (!existsSync(portFile) || readFileSync(portFile, 'utf8') === '') await new Promise((r) => setTimeout(r, 20))
const receiverUrl = `http://127.0.0.1:${readFileSync(portFile, 'utf8')}`

interface Scheme {
  family: 'hmac' | 'rsa' | 'prime256v1' | 'secp256k1'
  hash: string
  pre: string
  post: string
}

async function outboundGateway(scheme: Scheme, extra: Record<string, unknown> = {}): Promise<{ gateway: Gateway; url: string }> {
  const gwDir = tempDir('nlgw-outbound-gw-')
  writeFileSync(join(gwDir, 'credentials.yaml'), stringify({ credentials: [] }))
  const key = scheme.family === 'hmac' ? hmacFile : keys[scheme.family].privatePath
  const algorithm = scheme.family === 'hmac' || scheme.family === 'rsa' ? scheme.family : 'ecdsa'
  writeFileSync(
    join(gwDir, 'gateway.yaml'),
    stringify({
      auth: hmac.auth,
      upstream: { url: 'http://127.0.0.1:9' },
      outbound: {
        target: `${receiverUrl}/${scheme.family}/${scheme.hash}/${scheme.pre}/${scheme.post}`,
        apiKey: { env: 'FB_API_KEY' },
        scheme: { algorithm, hash: scheme.hash, preEncoding: scheme.pre, postEncoding: scheme.post },
        key: { file: key },
        timeout: '1s',
        // These tests exercise signing and forwarding; the allow-list test narrows it.
        allow: ['* /**'],
        ...extra,
      },
    }),
  )
  const gateway = await createGateway(loadConfig(join(gwDir, 'gateway.yaml'), { FB_API_KEY: 'exchange-key' }), { logger: false })
  await gateway.outbound?.listen({ host: '127.0.0.1', port: 0 })
  return { gateway, url: `http://127.0.0.1:${(gateway.outbound?.server.address() as { port: number }).port}` }
}

const families: Array<[Scheme['family'], string[]]> = [
  ['hmac', ['sha256', 'sha512', 'sha3-256']],
  ['rsa', ['sha256', 'sha512', 'sha3-256']],
  ['prime256v1', ['sha256']],
  ['secp256k1', ['sha256']],
]

t.test('every scheme is verified by the independent receiver', async (t) => {
  let combo = 0
  for (const [family, hashes] of families) {
    for (const hash of hashes) {
      // walk the encodings so that every pre- and post-encoding is used by every family
      for (let i = 0; i < PRE_ENCODINGS.length; i++) {
        const scheme = { family, hash, pre: PRE_ENCODINGS[(combo + i) % PRE_ENCODINGS.length] as string, post: POST_ENCODINGS[(combo + i) % POST_ENCODINGS.length] as string }
        const { gateway, url } = await outboundGateway(scheme)
        const res = await request(`${url}/collateral/settlements?asset=%E2%82%AC&x=1`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-fbapi-signature': 'client-forged', 'x-fbapi-key': 'someone-else' },
          body: '{"amount":"1.5","note":"Zürich \\"q\\""}',
        })
        const answer = (await res.body.json()) as Record<string, unknown>
        t.equal(answer.valid, true, `${family}/${hash} pre=${scheme.pre} post=${scheme.post}`)
        t.equal(answer.endpoint, '/collateral/settlements?asset=%E2%82%AC&x=1', 'signed and forwarded path without the base prefix')
        t.equal(answer.apiKey, 'exchange-key', "the client's X-FBAPI headers are replaced")
        await gateway.close()
      }
      combo++
    }
  }
})

t.test('the proxy cannot be pointed anywhere else', async (t) => {
  const { gateway, url } = await outboundGateway({ family: 'hmac', hash: 'sha256', pre: 'plain', post: 'base64' })
  t.teardown(() => gateway.close())
  const port = Number(new URL(url).port)
  const raw = (text: string) =>
    new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(text))
      let out = ''
      socket.on('data', (d) => (out += d))
      socket.on('close', () => resolve(out))
      socket.on('error', () => resolve(out))
    })
  t.match(await raw('GET http://evil.example/steal HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400/, 'absolute-form target refused')
  t.match(await raw('GET //evil.example/steal HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400/, 'network-path target refused')
  t.match(await raw('GET /a/../../steal HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400/, 'dot segments refused')
  t.notMatch(await raw('CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n'), /^HTTP\/1\.1 200/, 'no tunnels')
  const spoofed = (await (await request(`${url}/vault`, { headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } })).body.json()) as Record<string, unknown>
  t.equal(spoofed.host, new URL(receiverUrl).host, 'the Host header does not redirect')
  t.equal(spoofed.valid, true)
})

t.test('allow-list: listed endpoints pass, others are refused and never signed', async (t) => {
  const { gateway, url } = await outboundGateway({ family: 'hmac', hash: 'sha256', pre: 'plain', post: 'base64' }, { allow: ['GET /collateral/transactions/{id}', 'POST /collateral/settlements'] })
  t.teardown(() => gateway.close())
  t.equal((await request(`${url}/collateral/transactions/tx-1`)).statusCode, 200)
  t.equal((await request(`${url}/collateral/settlements`, { method: 'POST', body: '{}' })).statusCode, 200)
  const refused = await request(`${url}/collateral/transactions/tx-1`, { method: 'DELETE' })
  t.equal(refused.statusCode, 403)
  t.match(await refused.body.json(), { message: 'DELETE /collateral/transactions/tx-1 is not in the outbound allow-list' })
  t.equal((await request(`${url}/vault/accounts`)).statusCode, 403)
  const counted = (await gateway.metrics.registry.getSingleMetric('nlgw_outbound_requests_total')?.get())?.values.map((v) => `${v.labels.route} ${v.labels.status} ${v.labels.retry}=${v.value}`)
  t.same(counted?.sort(), ['GET /collateral/transactions/{id} 200 0=1', 'POST /collateral/settlements 200 0=1', 'refused 403 0=2'])
})

t.test('retries only where safe, each re-signed with a fresh nonce; timeouts; streaming', async (t) => {
  const { gateway, url } = await outboundGateway({ family: 'secp256k1', hash: 'sha256', pre: 'base58', post: 'base32' }, { retries: 2 })
  t.teardown(() => gateway.close())
  const get = await request(`${url}/flaky/get-1`)
  const answer = (await get.body.json()) as Record<string, unknown>
  t.same([get.statusCode, answer.attempt, answer.valid, answer.freshNonce], [200, 3, true, true], 'GET retried twice, the third attempt signed anew')
  const post = await request(`${url}/flaky/post-1`, { method: 'POST', body: '{"amount":"1"}' })
  t.equal(post.statusCode, 503, 'a POST without idempotencyKey is not retried')
  await post.body.dump()
  const keyed = await request(`${url}/flaky/post-2`, { method: 'POST', body: '{"idempotencyKey":"k-1","amount":"1"}' })
  t.equal(keyed.statusCode, 200, 'a POST with an idempotencyKey is retried')
  await keyed.body.dump()
  const slow = await request(`${url}/slow`)
  t.same([slow.statusCode, await slow.body.json()], [504, { message: 'Fireblocks did not answer in time', errorType: 'internal-error' }])
  const big = await request(`${url}/big`)
  t.equal(((await big.body.json()) as { data: string }).data.length, 1 << 20, 'a 1 MiB answer streams back whole')
  const byRetry: Record<string, number> = {}
  for (const v of (await gateway.metrics.registry.getSingleMetric('nlgw_outbound_requests_total')?.get())?.values ?? []) {
    if (v.labels.status === '503') byRetry[String(v.labels.retry)] = (byRetry[String(v.labels.retry)] ?? 0) + v.value
  }
  t.same(byRetry, { 0: 3, 1: 2 }, '503 answers counted by attempt: GET and keyed POST retried, plain POST not')
})
