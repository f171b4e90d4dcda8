/**
 * Verify throughput per scheme: the gateway's verifier (decode, pre-encode,
 * verify) next to the raw library call on the same key and message.
 */
import { createHash, createHmac, generateKeyPairSync, sign, timingSafeEqual, verify } from 'node:crypto'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { createSigner, createVerifier, libsecp256k1, type SigningScheme } from '../src/signing/index.js'
import { opsPerSecond, type Row } from './measure.js'

const message = Buffer.from('1691606624184c3d5f400-0e7e-4f94-a199-44b8cc7b6b81GET/accounts/A1234/balances?limit=2')

function keyPair(kind: 'rsa' | 'prime256v1' | 'secp256k1') {
  return kind === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: kind })
}

export function verifyBench(ms: number): Row[] {
  const rows: Row[] = []
  const row = (name: string, gateway: number, raw: number, rawName: string) =>
    rows.push({ scheme: name, 'gateway verify/s': Math.round(gateway), 'raw library verify/s': Math.round(raw), 'raw library': rawName, ratio: gateway / raw })

  for (const hash of ['sha256', 'sha512', 'sha3-256'] as const) {
    const scheme: SigningScheme = { algorithm: 'hmac', hash, preEncoding: 'plain', postEncoding: 'base64' }
    const secret = 'bench-secret'
    const header = createSigner(scheme, secret).sign(message)
    const verifier = createVerifier(scheme, secret)
    const expected = Buffer.from(header, 'base64')
    row(`hmac-${hash}`, opsPerSecond(() => verifier.verify(message, header), ms),
      opsPerSecond(() => timingSafeEqual(createHmac(hash, secret).update(message).digest(), expected), ms), 'node:crypto createHmac')
  }
  const rsa = keyPair('rsa')
  for (const hash of ['sha256', 'sha512', 'sha3-256'] as const) {
    const scheme: SigningScheme = { algorithm: 'rsa', hash, preEncoding: 'plain', postEncoding: 'base64' }
    const header = createSigner(scheme, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' })).sign(message)
    const verifier = createVerifier(scheme, rsa.publicKey.export({ type: 'spki', format: 'pem' }))
    const raw = Buffer.from(header, 'base64')
    row(`rsa2048-${hash}`, opsPerSecond(() => verifier.verify(message, header), ms),
      opsPerSecond(() => verify(hash, message, rsa.publicKey, raw), ms), 'node:crypto verify (OpenSSL)')
  }
  for (const curve of ['prime256v1', 'secp256k1'] as const) {
    const pair = keyPair(curve)
    const scheme: SigningScheme = { algorithm: 'ecdsa', hash: 'sha256', preEncoding: 'plain', postEncoding: 'base64' }
    const header = createSigner(scheme, pair.privateKey.export({ type: 'pkcs8', format: 'pem' })).sign(message)
    const verifier = createVerifier(scheme, pair.publicKey.export({ type: 'spki', format: 'pem' }))
    const der = Buffer.from(header, 'base64')
    const gateway = opsPerSecond(() => verifier.verify(message, header), ms)
    const openssl = opsPerSecond(() => verify('sha256', message, pair.publicKey, der), ms)
    row(`ecdsa-${curve}`, gateway, openssl, 'node:crypto verify (OpenSSL)')
    if (curve === 'secp256k1') {
      const jwk = pair.publicKey.export({ format: 'jwk' })
      const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')])
      const compact = sign('sha256', message, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' })
      const sig = secp256k1.Signature.fromBytes(compact, 'compact')
      const low = sig.hasHighS() ? new secp256k1.Signature(sig.r, secp256k1.Point.CURVE().n - sig.s).toBytes('compact') : compact
      if (libsecp256k1) {
        const lib = libsecp256k1
        row('ecdsa-secp256k1', gateway, opsPerSecond(() => lib.ecdsaVerify(low, createHash('sha256').update(message).digest(), point), ms), 'libsecp256k1 (secp256k1 package)')
      }
      row('ecdsa-secp256k1', gateway, opsPerSecond(() => secp256k1.verify(low, createHash('sha256').update(message).digest(), point, { prehash: false }), ms / 2), '@noble/curves (pure JS)')
    }
  }
  return rows
}
