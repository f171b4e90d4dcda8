import t from 'tap'
import { makeKeys } from '../helpers/keys.js'
import { independent } from '../helpers/independent.js'

// Each tap file is its own process: choose the OpenSSL path before the module loads.
process.env.NLGW_SECP256K1 = 'openssl'
const { createSigner, createVerifier, libsecp256k1 } = await import('../../src/signing/index.js')

t.test('without libsecp256k1, secp256k1 verifies through OpenSSL with the same results', async (t) => {
  t.equal(libsecp256k1, undefined, 'the native binding is not used')
  const keys = makeKeys('secp256k1')
  const scheme = { algorithm: 'ecdsa', hash: 'sha256', preEncoding: 'base64', postEncoding: 'base58' } as const
  const verifier = createVerifier(scheme, keys.publicForms.spki as string)
  const messages = Array.from({ length: 16 }, (_, i) => Buffer.from(`17000000000${i}nGET/accounts?limit=${i}`))
  const signed = independent(messages.map((message) => ({ op: 'sign', algorithm: 'ecdsa', hash: 'sha256', pre: 'base64', post: 'base58', key: keys.privatePath, message })))
  messages.forEach((m, i) => t.equal(verifier.verify(m, signed[i]?.signature as string), 'valid'))
  const ours = createSigner(scheme, keys.privateForms.sec1 as string).sign(messages[0] as Buffer)
  t.equal(verifier.verify(messages[1] as Buffer, ours), 'mismatch')
})
