import { createRequire } from 'node:module'

/**
 * libsecp256k1 through the `secp256k1` package's prebuilt N-API binary:
 * ~6.5× OpenSSL's secp256k1 verify rate on the reference machine (see README,
 * "Signature verification speed"). Loaded directly from its bindings so that a
 * platform without a prebuilt binary falls back to OpenSSL, never to the
 * package's pure-JS `elliptic` fallback.
 */
export interface Libsecp256k1 {
  ecdsaVerify(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean
  /** Strict DER → 64-byte r‖s; throws on anything else. */
  signatureImport(der: Uint8Array): Uint8Array
  /** High-S → low-S (in place); throws when r or s is out of range. */
  signatureNormalize(signature: Uint8Array): Uint8Array
}

function load(): Libsecp256k1 | undefined {
  if (process.env.NLGW_SECP256K1 === 'openssl') return undefined
  try {
    return createRequire(import.meta.url)('secp256k1/bindings.js') as Libsecp256k1
  } catch {
    return undefined
  }
}

export const libsecp256k1 = load()
