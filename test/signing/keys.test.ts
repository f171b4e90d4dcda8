import t from 'tap'
import { createSigner, createVerifier, KeyError, type SigningScheme } from '../../src/signing/index.js'
import { makeKeys } from '../helpers/keys.js'

const message = Buffer.from('1691606624184c3d5f400-0e7e-4f94-a199-44b8cc7b6b81GET/accounts/A1234/balances?limit=2')
const schemes: Record<string, SigningScheme> = {
  rsa: { algorithm: 'rsa', hash: 'sha512', preEncoding: 'plain', postEncoding: 'base64' },
  prime256v1: { algorithm: 'ecdsa', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' },
  secp256k1: { algorithm: 'ecdsa', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' },
}

for (const kind of ['rsa', 'prime256v1', 'secp256k1'] as const) {
  t.test(`${kind}: every PEM form signs and verifies; a private key also verifies`, async (t) => {
    const keys = makeKeys(kind)
    const scheme = schemes[kind] as SigningScheme
    for (const [form, pem] of Object.entries(keys.privateForms)) {
      const signature = createSigner(scheme, pem).sign(message)
      for (const [pubForm, pub] of Object.entries({ ...keys.publicForms, ...keys.privateForms })) {
        t.equal(createVerifier(scheme, pub).verify(message, signature), 'valid', `signed with ${form}, verified with ${pubForm}`)
      }
    }
  })
}

t.test('keys of the wrong kind are configuration errors, not run-time failures', async (t) => {
  const rsa = makeKeys('rsa')
  const k1 = makeKeys('secp256k1')
  const p256 = makeKeys('prime256v1')
  t.throws(() => createVerifier(schemes.prime256v1 as SigningScheme, rsa.publicForms.spki as string), KeyError)
  t.throws(() => createSigner(schemes.rsa as SigningScheme, k1.privateForms.sec1 as string), KeyError)
  t.throws(() => createVerifier({ ...(schemes.secp256k1 as SigningScheme), curve: 'secp256k1' }, p256.publicForms.spki as string), /curve secp256k1 but the key is on prime256v1/)
  t.throws(() => createSigner(schemes.rsa as SigningScheme, rsa.publicForms.spki as string), KeyError, 'a public key cannot sign')
  t.throws(() => createVerifier(schemes.rsa as SigningScheme, 'not a pem'), KeyError)
  t.throws(() => createVerifier({ ...(schemes.rsa as SigningScheme), algorithm: 'hmac' }, ''), /HMAC secret is empty/)
  t.throws(() => createVerifier({ ...(schemes.rsa as SigningScheme), algorithm: 'hmac' }, '\n'), /HMAC secret is empty/)
})

t.test('an HMAC secret file with a trailing newline is the secret without it', async (t) => {
  const scheme: SigningScheme = { algorithm: 'hmac', hash: 'sha256', preEncoding: 'plain', postEncoding: 'hexstr' }
  const signature = createSigner(scheme, 'top-secret').sign(message)
  t.equal(createVerifier(scheme, Buffer.from('top-secret\n')).verify(message, signature), 'valid')
  t.equal(createVerifier(scheme, Buffer.from('top-secret\r\n')).verify(message, signature), 'valid')
  t.equal(createVerifier(scheme, Buffer.from('top-secret ')).verify(message, signature), 'mismatch', 'other whitespace is part of the secret')
})
