import { createHash, createHmac, sign, verify, timingSafeEqual, constants, type KeyObject } from 'node:crypto'
import { libsecp256k1, type Libsecp256k1 } from './secp256k1.js'
import type { SchemeKey } from './keys.js'
import type { Hash } from './scheme.js'

/**
 * Why a signature was refused, for counting:
 * - `malformed`: decodes, but cannot be a signature of this scheme (wrong
 *   length, broken DER, r or s out of range, a key the library rejects);
 * - `mismatch`: well-formed, but not made by this key over this message.
 * A verify function may throw on input its library rejects; `createVerifier`
 * turns that into `malformed`.
 */
export type Refusal = 'malformed' | 'mismatch'
export type SignFn = (data: Buffer) => Buffer
export type VerifyFn = (data: Buffer, signature: Buffer) => Refusal | undefined

const RSA = { padding: constants.RSA_PKCS1_PADDING }

export function signFn(hash: Hash, { algorithm, key }: SchemeKey): SignFn {
  switch (algorithm) {
    case 'hmac':
      return (data) => createHmac(hash, key).update(data).digest()
    case 'rsa':
      return (data) => sign(hash, data, { key, ...RSA })
    case 'ecdsa':
      // DER, as the official validator and most libraries produce.
      return (data) => sign('sha256', data, { key, dsaEncoding: 'der' })
  }
}

export function verifyFn(hash: Hash, { algorithm, key, curve }: SchemeKey): VerifyFn {
  switch (algorithm) {
    case 'hmac':
      return hmacVerify(hash, key)
    case 'rsa':
      return rsaVerify(hash, key)
    case 'ecdsa':
      return curve === 'secp256k1' && libsecp256k1 ? secp256k1Verify(libsecp256k1, key) : ecdsaVerify(key)
  }
}

function hmacVerify(hash: Hash, key: KeyObject): VerifyFn {
  return (data, signature) => {
    const expected = createHmac(hash, key).update(data).digest()
    if (signature.length !== expected.length) return 'malformed'
    return timingSafeEqual(expected, signature) ? undefined : 'mismatch'
  }
}

function rsaVerify(hash: Hash, key: KeyObject): VerifyFn {
  const modulusBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8)
  return (data, signature) => {
    if (signature.length !== modulusBytes) return 'malformed'
    return verify(hash, data, { key, ...RSA }, signature) ? undefined : 'mismatch'
  }
}

/**
 * ECDSA signatures arrive DER-encoded or as raw r‖s (64 bytes). A 64-byte value
 * that starts like DER is tried both ways: either reading needs a genuine
 * signature to pass.
 */
type EcdsaForm = 'der' | 'ieee-p1363'
const RAW_ONLY: EcdsaForm[] = ['ieee-p1363']
const DER_ONLY: EcdsaForm[] = ['der']
const EITHER: EcdsaForm[] = ['ieee-p1363', 'der']

function ecdsaForms(signature: Buffer): EcdsaForm[] {
  const der = signature[0] === 0x30
  if (signature.length === 64) return der ? EITHER : RAW_ONLY
  return der ? DER_ONLY : []
}

function ecdsaVerify(key: KeyObject): VerifyFn {
  return (data, signature) => {
    const forms = ecdsaForms(signature)
    if (forms.length === 0) return 'malformed'
    for (const dsaEncoding of forms) {
      if (verify('sha256', data, { key, dsaEncoding }, signature)) return undefined
    }
    return 'mismatch'
  }
}

function secp256k1Verify(lib: Libsecp256k1, key: KeyObject): VerifyFn {
  const jwk = key.export({ format: 'jwk' })
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')])
  return (data, signature) => {
    const forms = ecdsaForms(signature)
    if (forms.length === 0) return 'malformed'
    const digest = createHash('sha256').update(data).digest()
    let refusal: Refusal = 'malformed'
    for (const form of forms) {
      try {
        const compact = form === 'der' ? lib.signatureImport(signature) : signature
        // libsecp256k1 accepts low-S only; OpenSSL and the spec accept both halves.
        if (lib.ecdsaVerify(lib.signatureNormalize(Uint8Array.from(compact)), digest, point)) return undefined
        refusal = 'mismatch'
      } catch {
        // strict DER parse failed, or r or s out of range: try the other reading
      }
    }
    return refusal
  }
}
