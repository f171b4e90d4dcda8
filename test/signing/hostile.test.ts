import t from 'tap'
import { randomBytes, sign } from 'node:crypto'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { createSigner, createVerifier, POST_ENCODINGS, type SigningScheme } from '../../src/signing/index.js'
import { postEncode } from '../../src/signing/encodings.js'
import { makeKeys } from '../helpers/keys.js'

const message = Buffer.from('1700000000000nonce-1POST/accounts/1/transfers{"a":1}')
const keys = { rsa: makeKeys('rsa'), prime256v1: makeKeys('prime256v1'), secp256k1: makeKeys('secp256k1') }
const other = { rsa: makeKeys('rsa'), prime256v1: makeKeys('prime256v1'), secp256k1: makeKeys('secp256k1') }

const setups = [
  { name: 'hmac', scheme: { algorithm: 'hmac', hash: 'sha512' }, key: 's3cret', otherKey: 's3cret2' },
  { name: 'rsa', scheme: { algorithm: 'rsa', hash: 'sha256' }, key: keys.rsa.privateForms.pkcs8, otherKey: other.rsa.privateForms.pkcs8 },
  { name: 'p256', scheme: { algorithm: 'ecdsa', hash: 'sha256' }, key: keys.prime256v1.privateForms.sec1, otherKey: other.prime256v1.privateForms.sec1 },
  { name: 'k1', scheme: { algorithm: 'ecdsa', hash: 'sha256' }, key: keys.secp256k1.privateForms.sec1, otherKey: other.secp256k1.privateForms.sec1 },
] as const

for (const setup of setups) {
  for (const postEncoding of POST_ENCODINGS) {
    t.test(`${setup.name}/${postEncoding}: hostile signatures are refused, never thrown`, async (t) => {
      const scheme = { ...setup.scheme, preEncoding: 'plain', postEncoding } as SigningScheme
      const verifier = createVerifier(scheme, setup.key as string)
      const good = createSigner(scheme, setup.key as string).sign(message)
      t.equal(verifier.verify(message, good), 'valid')
      const refused: Array<[string, string]> = [
        ['empty', ''],
        ['garbage text', '%%% not a signature %%%'],
        ['huge', 'A'.repeat(1 << 20)],
        ['control characters', '\u0000\u0001\u0002'],
        ['non-ASCII', 'é☃🚀'],
        ['another key', createSigner(scheme, setup.otherKey as string).sign(message)],
        ['one byte', postEncode(postEncoding, Buffer.from([1]))],
        ['random 64 bytes', postEncode(postEncoding, randomBytes(64))],
        ['random 256 bytes', postEncode(postEncoding, randomBytes(256))],
        ['all zero 64 bytes', postEncode(postEncoding, Buffer.alloc(64))],
        ['all 0xff 64 bytes', postEncode(postEncoding, Buffer.alloc(64, 0xff))],
        ['truncated DER', postEncode(postEncoding, Buffer.from([0x30, 0x44, 0x02, 0x20, 1, 2, 3]))],
        ['DER with zero r and s', postEncode(postEncoding, Buffer.from([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]))],
      ]
      for (const [what, signature] of refused) {
        let outcome: string | undefined
        t.doesNotThrow(() => (outcome = verifier.verify(message, signature)), what)
        t.not(outcome, 'valid', what)
        t.match(outcome, /^(undecodable|malformed|mismatch)$/, `${what}: countable reason`)
      }
      t.equal(verifier.verify(Buffer.alloc(0), good), 'mismatch', 'empty message')
    })
  }
}

t.test('ECDSA accepts DER and raw r‖s, low-S and high-S alike, on both curves', async (t) => {
  for (const curve of ['prime256v1', 'secp256k1'] as const) {
    const scheme: SigningScheme = { algorithm: 'ecdsa', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }
    const privateKey = keys[curve].privateForms.pkcs8 as string
    const verifier = createVerifier(scheme, keys[curve].publicForms.spki as string)
    let highS = 0
    for (let i = 0; i < 24; i++) {
      const msg = Buffer.concat([message, Buffer.from(String(i))])
      const raw = sign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' })
      const der = sign('sha256', msg, { key: privateKey, dsaEncoding: 'der' })
      t.equal(verifier.verify(msg, raw.toString('base64')), 'valid', `${curve} raw #${i}`)
      t.equal(verifier.verify(msg, der.toString('base64')), 'valid', `${curve} DER #${i}`)
      if (curve === 'secp256k1') {
        const sig = secp256k1.Signature.fromBytes(raw, 'compact')
        const n = secp256k1.Point.CURVE().n
        const flipped = new secp256k1.Signature(sig.r, n - sig.s)
        if (flipped.hasHighS()) highS++
        t.equal(verifier.verify(msg, Buffer.from(flipped.toBytes('compact')).toString('base64')), 'valid', `the other S half #${i}`)
        t.equal(verifier.verify(msg, Buffer.from(new secp256k1.Signature(sig.r, n - 1n).toBytes('compact')).toString('base64')), 'mismatch', `wrong S #${i}`)
      }
      const truncated = der.subarray(0, der.length - 1)
      t.not(verifier.verify(msg, truncated.toString('base64')), 'valid', `${curve} truncated DER #${i}`)
    }
    if (curve === 'secp256k1') t.ok(highS > 0, 'high-S signatures were exercised')
  }
})

t.test('RSA: a signature of the wrong length is malformed without reaching OpenSSL', async (t) => {
  const scheme: SigningScheme = { algorithm: 'rsa', hash: 'sha256', preEncoding: 'plain', postEncoding: 'hexstr' }
  const verifier = createVerifier(scheme, keys.rsa.publicForms.pkcs1 as string)
  const good = Buffer.from(createSigner(scheme, keys.rsa.privateForms.pkcs1 as string).sign(message), 'hex')
  t.equal(verifier.verify(message, good.subarray(1).toString('hex')), 'malformed')
  t.equal(verifier.verify(message, Buffer.concat([good, Buffer.from([0])]).toString('hex')), 'malformed')
  t.equal(verifier.verify(message, Buffer.alloc(256, 0xff).toString('hex')), 'mismatch', 'value ≥ modulus')
})
