import t from 'tap'
import { createSigner, createVerifier, PRE_ENCODINGS, POST_ENCODINGS, type SigningScheme } from '../../src/signing/index.js'
import { buildMessage } from '../../src/signing/message.js'
import { independent, type IndependentCase } from '../helpers/independent.js'
import { hmacSecretFile, makeKeys } from '../helpers/keys.js'

/**
 * Interop, not self-consistency: every scheme × pre-encoding × post-encoding is
 * signed by an independent implementation (Python stdlib + openssl CLI) and
 * verified by ours, and signed by ours and verified by the independent one.
 */
const messages = [
  // SPEC-README's worked example
  buildMessage({ timestamp: '1691606624184', nonce: 'c3d5f400-0e7e-4f94-a199-44b8cc7b6b81', method: 'GET', endpoint: '/accounts/A1234/balances?limit=2' }),
  // percent-escapes in the query, a JSON body with quotes and non-ASCII text
  buildMessage({
    timestamp: '1700000000000',
    nonce: '8b0c1a52-73c4-4d1e-9a43-5f2e0c7b9d10',
    method: 'post',
    endpoint: '/accounts/sub%2F1/transfers/withdrawals/fiat?note=caf%C3%A9%20%E2%82%AC&limit=2',
    body: '{"idempotencyKey":"k-1","amount":"1.50","memo":"Zürich \\"quoted\\" – 東京 🚀"}',
  }),
  // raw non-ASCII in the endpoint
  buildMessage({ timestamp: '1', nonce: 'n', method: 'DELETE', endpoint: '/accounts/ä/x?q=ü', body: '' }),
]

const secret = 'nl-secret-£-' + Math.random().toString(36).slice(2)
const hmacKey = hmacSecretFile(secret)
const keys = { rsa: makeKeys('rsa'), prime256v1: makeKeys('prime256v1'), secp256k1: makeKeys('secp256k1') }

interface Family {
  scheme: Omit<SigningScheme, 'preEncoding' | 'postEncoding'>
  ours: { sign: string; verify: string }
  theirs: { sign: string; verify: string }
}
const families: Family[] = [
  ...(['sha256', 'sha512', 'sha3-256'] as const).map((hash) => ({
    scheme: { algorithm: 'hmac' as const, hash },
    ours: { sign: secret, verify: secret },
    theirs: { sign: hmacKey, verify: hmacKey },
  })),
  ...(['sha256', 'sha512', 'sha3-256'] as const).map((hash) => ({
    scheme: { algorithm: 'rsa' as const, hash },
    ours: { sign: keys.rsa.privateForms.pkcs1 as string, verify: keys.rsa.publicForms.spki as string },
    theirs: { sign: keys.rsa.privatePath, verify: keys.rsa.publicPath },
  })),
  ...(['prime256v1', 'secp256k1'] as const).map((curve) => ({
    scheme: { algorithm: 'ecdsa' as const, hash: 'sha256' as const, curve },
    ours: { sign: keys[curve].privateForms.sec1 as string, verify: keys[curve].publicForms.spki as string },
    theirs: { sign: keys[curve].privatePath, verify: keys[curve].publicPath },
  })),
]

interface Combo {
  scheme: SigningScheme
  family: Family
  message: Buffer
}
const combos: Combo[] = []
for (const family of families)
  for (const preEncoding of PRE_ENCODINGS)
    for (const postEncoding of POST_ENCODINGS)
      for (const message of messages) combos.push({ scheme: { ...family.scheme, preEncoding, postEncoding }, family, message })

const base = (c: Combo) => ({ algorithm: c.scheme.algorithm, hash: c.scheme.hash, pre: c.scheme.preEncoding, post: c.scheme.postEncoding, message: c.message })
const label = (c: Combo) => `${c.scheme.algorithm}/${c.scheme.curve ?? c.scheme.hash} pre=${c.scheme.preEncoding} post=${c.scheme.postEncoding} msg#${messages.indexOf(c.message)}`

t.test('independent signer → our verifier', async (t) => {
  const signed = independent(combos.map((c): IndependentCase => ({ op: 'sign', key: c.family.theirs.sign, ...base(c) })))
  let checked = 0
  combos.forEach((c, i) => {
    const signature = signed[i]?.signature as string
    const verifier = createVerifier(c.scheme, c.family.ours.verify)
    t.equal(verifier.verify(c.message, signature), 'valid', label(c))
    // one more message byte must not verify
    t.not(verifier.verify(Buffer.concat([c.message, Buffer.from('x')]), signature), 'valid', `${label(c)} tampered`)
    checked++
  })
  t.equal(checked, families.length * PRE_ENCODINGS.length * POST_ENCODINGS.length * messages.length)
})

t.test('our signer → independent verifier', async (t) => {
  const cases = combos.map((c): IndependentCase => ({
    op: 'verify',
    key: c.family.theirs.verify,
    signature: createSigner(c.scheme, c.family.ours.sign).sign(c.message),
    ...base(c),
  }))
  const results = independent(cases)
  combos.forEach((c, i) => t.equal(results[i]?.valid, true, label(c)))
  // The independent verifier is not a rubber stamp: a tampered message fails there too.
  const tampered = independent(cases.slice(0, 48).map((c) => ({ ...c, message: Buffer.concat([c.message, Buffer.from('x')]) })))
  tampered.forEach((r, i) => t.equal(r.valid, false, `${label(combos[i] as Combo)} tampered`))
})
