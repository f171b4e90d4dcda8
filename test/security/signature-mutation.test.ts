import t from 'tap'
import fc from 'fast-check'
import { createHmac, createPrivateKey, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto'
import { createSigner, createVerifier, type SigningScheme } from '../../src/signing/index.js'
import { ERRORS } from '../../src/errors.js'
import { Backend } from '../helpers/backend.js'
import { send } from '../helpers/client.js'
import { ALPHABETS, decode, encode, type PostEncoding } from '../helpers/codecs.js'
import { startGateway } from '../helpers/gateway.js'
import { makeKeys } from '../helpers/keys.js'

/**
 * A signature comparison that reads only part of the signature must fail
 * here: valid signatures are changed in their LAST byte, a middle byte, and
 * any byte, for every algorithm and post-encoding, and must be refused. The
 * byte is flipped in the decoded signature and re-encoded (flipping the last
 * character of base64 or base32 text can leave the bytes unchanged: padding
 * bits), and separately every single-character change of the text that
 * decodes to other bytes is refused too. Keys are made by the openssl CLI.
 */

const POST: PostEncoding[] = ['base64', 'hexstr', 'base58', 'base32']
const dir = t.testdir()
const keys = { rsa: makeKeys('rsa', dir), prime256v1: makeKeys('prime256v1', dir), secp256k1: makeKeys('secp256k1', dir) }
const secret = randomBytes(24).toString('base64')

interface Family {
  name: string
  scheme: Pick<SigningScheme, 'algorithm' | 'hash' | 'curve'>
  signKey: string
  verifyKey: string
  /** How node:crypto signs the (plain) message, independently of src/signing. */
  independent: (message: Buffer) => Buffer
}

const pem = (text: string): KeyObject => createPrivateKey(text)
const families: Family[] = [
  ...(['sha256', 'sha512', 'sha3-256'] as const).map((hash) => ({
    name: `hmac-${hash}`,
    scheme: { algorithm: 'hmac' as const, hash },
    signKey: secret,
    verifyKey: secret,
    independent: (m: Buffer) => createHmac(hash, secret).update(m).digest(),
  })),
  ...(['sha256', 'sha512', 'sha3-256'] as const).map((hash) => ({
    name: `rsa-${hash}`,
    scheme: { algorithm: 'rsa' as const, hash },
    signKey: keys.rsa.privateForms.pkcs8 as string,
    verifyKey: keys.rsa.publicForms.spki as string,
    independent: (m: Buffer) => sign(hash, m, pem(keys.rsa.privateForms.pkcs8 as string)),
  })),
  ...(['prime256v1', 'secp256k1'] as const).map((curve) => ({
    name: `ecdsa-${curve}`,
    scheme: { algorithm: 'ecdsa' as const, hash: 'sha256' as const, curve },
    signKey: keys[curve].privateForms.pkcs8 as string,
    verifyKey: keys[curve].publicForms.spki as string,
    independent: (m: Buffer) => sign('sha256', m, { key: pem(keys[curve].privateForms.pkcs8 as string), dsaEncoding: 'der' }),
  })),
]

const message = Buffer.from('1700000000000c3d5f400-0e7e-4f94-a199-44b8cc7b6b81POST/accounts/acc-1/transfers/withdrawals/blockchain{"amount":"1.50"}')

function flipped(bytes: Buffer, index: number, mask = 0x01): Buffer {
  const copy = Buffer.from(bytes)
  copy[index] = (copy[index] as number) ^ mask
  return copy
}

t.test('unit: the last byte, a middle byte and any byte of a valid signature, flipped, are refused', async (t) => {
  let checked = 0
  for (const family of families) {
    for (const postEncoding of POST) {
      const scheme = { ...family.scheme, preEncoding: 'plain', postEncoding } as SigningScheme
      const label = `${family.name}/${postEncoding}`
      const verifier = createVerifier(scheme, family.verifyKey)
      const good = createSigner(scheme, family.signKey).sign(message)
      t.equal(verifier.verify(message, good), 'valid', `${label}: the gateway's own signature`)
      const bytes = decode(postEncoding, good) as Buffer
      t.equal(encode(postEncoding, bytes), good, `${label}: the test codec reads the signature back exactly`)
      const theirs = encode(postEncoding, family.independent(message))
      t.equal(verifier.verify(message, theirs), 'valid', `${label}: node:crypto's signature`)

      const last = bytes.length - 1
      const middle = Math.floor(bytes.length / 2)
      for (const [what, index] of [['last', last], ['middle', middle]] as const) {
        for (const mask of [0x01, 0x80, 0xff]) {
          const outcome = verifier.verify(message, encode(postEncoding, flipped(bytes, index, mask)))
          // a changed HMAC, RSA signature or DER s is well-formed and wrong: a mismatch, not a parse failure
          const want = what === 'last' ? 'mismatch' : outcome === 'malformed' && family.scheme.algorithm === 'ecdsa' ? 'malformed' : 'mismatch'
          t.equal(outcome, want, `${label}: ${what} byte (${index} of ${bytes.length}) ^ 0x${mask.toString(16)}`)
          checked++
        }
      }
      // any byte, any change: a property over the decoded signature
      fc.assert(
        fc.property(fc.nat({ max: last }), fc.integer({ min: 1, max: 255 }), (index, mask) => verifier.verify(message, encode(postEncoding, flipped(bytes, index, mask))) !== 'valid'),
        { numRuns: 60 },
      )
      // the last byte dropped, or one appended: a length the scheme cannot have
      t.not(verifier.verify(message, encode(postEncoding, bytes.subarray(0, last))), 'valid', `${label}: last byte dropped`)
      t.not(verifier.verify(message, encode(postEncoding, Buffer.concat([bytes, Buffer.from([0])]))), 'valid', `${label}: a byte appended`)
    }
  }
  t.equal(checked, families.length * POST.length * 6)
})

t.test('unit: ECDSA raw r‖s (64 bytes) with its last or a middle byte flipped is refused', async (t) => {
  for (const curve of ['prime256v1', 'secp256k1'] as const) {
    for (const postEncoding of POST) {
      const verifier = createVerifier({ algorithm: 'ecdsa', hash: 'sha256', preEncoding: 'plain', postEncoding }, keys[curve].publicForms.spki as string)
      const raw = sign('sha256', message, { key: pem(keys[curve].privateForms.pkcs8 as string), dsaEncoding: 'ieee-p1363' })
      t.equal(verifier.verify(message, encode(postEncoding, raw)), 'valid', `${curve}/${postEncoding}: raw r‖s`)
      for (const index of [63, 31, 32]) t.equal(verifier.verify(message, encode(postEncoding, flipped(raw, index))), 'mismatch', `${curve}/${postEncoding}: byte ${index} flipped`)
    }
  }
})

t.test('unit: every one-character change of the text that decodes to other bytes is refused (last and middle character)', async (t) => {
  const sameBytes: Record<string, number> = {}
  let refused = 0
  for (const family of families) {
    for (const postEncoding of POST) {
      const scheme = { ...family.scheme, preEncoding: 'plain', postEncoding } as SigningScheme
      const verifier = createVerifier(scheme, family.verifyKey)
      const good = createSigner(scheme, family.signKey).sign(message)
      const original = decode(postEncoding, good) as Buffer
      const body = good.replace(/=+$/, '')
      for (const position of [body.length - 1, Math.floor(body.length / 2)]) {
        for (const ch of ALPHABETS[postEncoding]) {
          if (ch === body[position]) continue
          const text = good.slice(0, position) + ch + good.slice(position + 1)
          const bytes = decode(postEncoding, text)
          if (bytes !== undefined && bytes.equals(original)) {
            // base64/base32: only padding bits changed; the signature bytes are the same
            sameBytes[postEncoding] = (sameBytes[postEncoding] ?? 0) + 1
            continue
          }
          const outcome = verifier.verify(message, text)
          if (outcome === 'valid') t.fail(`${family.name}/${postEncoding}: ${JSON.stringify(text)} (char ${position} → ${ch}) verified`)
          else refused++
        }
      }
    }
  }
  t.comment(`refused ${refused} texts; same bytes (padding bits only): ${JSON.stringify(sameBytes)}`)
  t.ok(refused > 1000)
  t.same(Object.keys(sameBytes).sort(), ['base32', 'base64'], 'only base64 and base32 have padding bits in the last character')
})

// ---------------------------------------------------------------- over HTTP
t.test('HTTP: HMAC, RSA and both ECDSA curves, every post-encoding: a flipped last or middle byte is 401 bad_signature and the backend is untouched', async (t) => {
  const httpFamilies = families.filter((f) => ['hmac-sha256', 'hmac-sha3-256', 'rsa-sha512', 'ecdsa-prime256v1', 'ecdsa-secp256k1'].includes(f.name))
  const credentials = httpFamilies.flatMap((family) =>
    POST.map((postEncoding) => ({
      id: `${family.name}-${postEncoding}`,
      apiKey: `${family.name}-${postEncoding}`,
      ...(family.scheme.algorithm === 'hmac' ? { secret: { env: 'S' } } : { publicKey: family.verifyKey }),
      subject: 'u',
      scheme: { ...family.scheme, preEncoding: 'plain', postEncoding },
    })),
  )
  const backend = await Backend.start()
  const gateway = await startGateway({
    config: {
      auth: { scheme: { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }, credentials: [{ file: 'credentials.yaml' }] },
      upstream: { url: backend.url, passthrough: '/nl' },
    },
    credentials,
    env: { S: secret },
  })
  t.teardown(async () => {
    await gateway.close()
    await backend.close()
  })

  const path = '/v2/accounts/acc-1/balances?limit=2'
  let refusals = 0
  for (const family of httpFamilies) {
    for (const postEncoding of POST) {
      const apiKey = `${family.name}-${postEncoding}`
      const signed = () => {
        const timestamp = String(Date.now())
        const nonce = randomUUID()
        const bytes = family.independent(Buffer.from(`${timestamp}${nonce}GET${path.slice(3)}`))
        return { timestamp, nonce, bytes }
      }
      const good = signed()
      const ok = await send(gateway.url, { path, apiKey, timestamp: good.timestamp, nonce: good.nonce, headers: { 'x-fbapi-signature': encode(postEncoding, good.bytes) } })
      t.equal(ok.status, 200, `${apiKey}: the valid signature is accepted`)
      for (const [what, pick] of [['last', (b: Buffer) => b.length - 1], ['middle', (b: Buffer) => Math.floor(b.length / 2)]] as const) {
        const { timestamp, nonce, bytes } = signed()
        const before = backend.requests.length
        const res = await send(gateway.url, { path, apiKey, timestamp, nonce, headers: { 'x-fbapi-signature': encode(postEncoding, flipped(bytes, pick(bytes))) } })
        t.same([res.status, res.json], [401, { message: ERRORS.badSignature.message, errorType: 'unauthorized', requestPart: 'headers' }], `${apiKey}: ${what} byte flipped`)
        t.equal(backend.requests.length, before, `${apiKey}: ${what} byte flipped: nothing reached the backend`)
        refusals++
      }
    }
  }
  const counted = (await gateway.metrics.registry.getSingleMetric('nlgw_auth_refusals_total')?.get())?.values.find((v) => v.labels.reason === 'bad_signature')
  t.equal(counted?.value, refusals, 'each counted as bad_signature')
})
