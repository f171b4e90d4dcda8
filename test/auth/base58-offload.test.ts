import t from 'tap'
import { randomBytes, randomUUID } from 'node:crypto'
import { base58 } from '@scure/base'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { startGateway } from '../helpers/gateway.js'
import { independent } from '../helpers/independent.js'
import { hmacSecretFile } from '../helpers/keys.js'
import { Base58Pool, VerificationBusyError } from '../../src/signing/base58-pool.js'
import { base58Encode } from '../../src/signing/base58.js'

t.test('the worker pool encodes exactly as the in-thread encoder, and as @scure/base', async (t) => {
  const pool = new Base58Pool({ threads: 2, maxQueue: 16 })
  t.teardown(() => pool.close())
  const inputs = [Buffer.alloc(0), Buffer.from([0, 0, 1]), randomBytes(100), randomBytes(2048), randomBytes(16 * 1024)]
  const encoded = await Promise.all(inputs.map((bytes) => pool.encode(bytes)))
  inputs.forEach((bytes, i) => {
    t.equal(encoded[i]?.toString('latin1'), base58Encode(bytes), `${bytes.length} bytes`)
    if (bytes.length <= 2048) t.equal(encoded[i]?.toString('latin1'), base58.encode(bytes), `${bytes.length} bytes, @scure/base`)
  })
})

t.test('a full queue is refused at once rather than grown', async (t) => {
  const pool = new Base58Pool({ threads: 1, maxQueue: 2 })
  t.teardown(() => pool.close())
  const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => pool.encode(randomBytes(32 * 1024))))
  const refused = outcomes.filter((o) => o.status === 'rejected')
  t.ok(refused.length >= 5, `${refused.length} of 8 refused (one running, two queued)`)
  t.ok(refused.every((o) => (o as PromiseRejectedResult).reason instanceof VerificationBusyError))
  t.equal((await pool.encode(Buffer.from('after'))).toString('latin1'), base58Encode(Buffer.from('after')), 'serves again once the queue drains')
})

t.test('over HTTP: large base58-signed bodies are verified off the event loop; over the base58 body limit is 413', async (t) => {
  const secret = 'base58-secret'
  const secretFile = hmacSecretFile(secret, t.testdir())
  const backend = await Backend.start()
  const gateway = await startGateway({
    config: {
      auth: { scheme: { algorithm: 'hmac', hash: 'sha3-256', preEncoding: 'base58', postEncoding: 'base32' }, base58BodyLimit: 8192, credentials: [{ file: 'credentials.yaml' }] },
      upstream: { url: backend.url, passthrough: '/nl' },
    },
    credentials: [{ apiKey: 'b58', secret: { file: secretFile }, subject: 'u' }],
  })
  t.teardown(async () => {
    await gateway.close()
    await backend.close()
  })
  const post = (body: string, sign = true) => {
    const timestamp = String(Date.now())
    const nonce = randomUUID()
    const message = Buffer.from(`${timestamp}${nonce}POST/accounts/a1/transfers/withdrawals/blockchain${body}`)
    // Signed by Python (hmac, hashlib, a base58 written there), not by the gateway's code.
    const [signed] = sign ? independent([{ op: 'sign', algorithm: 'hmac', hash: 'sha3-256', pre: 'base58', post: 'base32', key: secretFile, message }]) : [{ signature: 'mfrgg' }]
    return send(gateway.url, { method: 'POST', path: '/v2/accounts/a1/transfers/withdrawals/blockchain', apiKey: 'b58', timestamp, nonce, body, headers: { 'x-fbapi-signature': signed?.signature } })
  }
  const body = (size: number) => JSON.stringify({ pad: 'p'.repeat(size - 10) })
  t.equal((await post(body(200))).status, 200, 'a small body is verified in the event loop')
  t.equal((await post(body(6000))).status, 200, 'a 6 KB body is verified through the worker')
  t.equal(backend.requests.at(-1)?.body.length, 6000)
  const forged = await post(body(6000), false)
  t.equal(forged.status, 401, 'a forged one is refused')
  const tooLarge = await post(body(9000))
  t.same([tooLarge.status, tooLarge.json], [413, { message: 'Request body too large', errorType: 'schema-error', requestPart: 'body' }], 'over auth.base58BodyLimit: refused before any encoding')
  t.equal(backend.requests.length, 2)
})

t.test('the base58 limit counts the request target with the body, and any target over 4 KiB is refused (attack review)', async (t) => {
  const secretFile = hmacSecretFile('base58-secret', t.testdir())
  const backend = await Backend.start()
  const gateway = await startGateway({
    config: { auth: { scheme: { algorithm: 'hmac', hash: 'sha3-256', preEncoding: 'base58', postEncoding: 'base32' }, base58BodyLimit: 2048, credentials: [{ file: 'credentials.yaml' }] }, upstream: { url: backend.url, passthrough: '/nl' } },
    credentials: [{ apiKey: 'b58', secret: { file: secretFile }, subject: 'u' }],
  })
  t.teardown(async () => {
    await gateway.close()
    await backend.close()
  })
  const path = '/v2/accounts/a1/transfers/withdrawals/blockchain'
  // 1,500 bytes of query plus 1,000 of body: each under the limit, together over it.
  const long = await send(gateway.url, { method: 'POST', path: `${path}?q=${'x'.repeat(1500)}`, apiKey: 'b58', body: JSON.stringify({ pad: 'p'.repeat(990) }) })
  t.equal(long.status, 413, 'target and body together over auth.base58BodyLimit')
  const target = await send(gateway.url, { path: `/v2/accounts/a1/balances?q=${'x'.repeat(2100)}`, apiKey: 'b58' })
  t.same([target.status, target.json?.message], [414, 'Request target too long'], 'a target alone over the limit')
  const huge = await send(gateway.url, { path: `/v2/accounts/a1/balances?q=${'x'.repeat(5000)}`, apiKey: 'nobody' })
  t.equal(huge.status, 414, 'over 4 KiB: refused before the key is even looked up')
  t.equal(backend.requests.length, 0)
})
