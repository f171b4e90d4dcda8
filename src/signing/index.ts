/**
 * Network Link v2 request signatures: every scheme the protocol allows, both
 * directions. Framework-free; keys are parsed once when a signer or verifier is
 * created, never per request.
 *
 *   message ─▶ pre-encoding ─▶ HMAC / RSA / ECDSA ─▶ post-encoding ─▶ header
 */
import { signFn, verifyFn, type Refusal } from './algorithms.js'
import { postDecode, postEncode, preEncode } from './encodings.js'
import { loadSigningKey, loadVerifyKey } from './keys.js'
import { buildMessage, type MessageParts } from './message.js'
import { parseScheme, type SigningScheme } from './scheme.js'

export { buildMessage, type MessageParts } from './message.js'
export * from './scheme.js'
export { KeyError } from './keys.js'
export { libsecp256k1 } from './secp256k1.js'
export { preEncode } from './encodings.js'

/** `undecodable`: the header is not valid text in the post-encoding. */
export type VerifyOutcome = 'valid' | 'undecodable' | Refusal

export interface Signer {
  readonly scheme: SigningScheme
  /** Signs a built message; returns the post-encoded signature header value. */
  sign(message: Buffer): string
  signRequest(parts: MessageParts): string
}

export interface Verifier {
  readonly scheme: SigningScheme
  /** Never throws: hostile input is an outcome, not an exception. */
  verify(message: Buffer, signature: string): VerifyOutcome
  /** The same, for a message already pre-encoded elsewhere (base58 by a worker thread). */
  verifyPreEncoded(preEncoded: Buffer, signature: string): VerifyOutcome
}

export function createSigner(schemeInput: SigningScheme, keyMaterial: string | Buffer): Signer {
  const scheme = parseScheme(schemeInput)
  const signBytes = signFn(scheme.hash, loadSigningKey(scheme, keyMaterial))
  const sign = (message: Buffer): string =>
    postEncode(scheme.postEncoding, signBytes(preEncode(scheme.preEncoding, message)))
  return { scheme, sign, signRequest: (parts) => sign(buildMessage(parts)) }
}

export function createVerifier(schemeInput: SigningScheme, keyMaterial: string | Buffer): Verifier {
  const scheme = parseScheme(schemeInput)
  const verifyBytes = verifyFn(scheme.hash, loadVerifyKey(scheme, keyMaterial))
  const verifyPreEncoded = (preEncoded: Buffer, signature: string): VerifyOutcome => {
    const decoded = postDecode(scheme.postEncoding, signature)
    if (decoded === undefined) return 'undecodable'
    try {
      return verifyBytes(preEncoded, decoded) ?? 'valid'
    } catch {
      return 'malformed' // a library refusing the value outright, e.g. r or s out of range
    }
  }
  return { scheme, verifyPreEncoded, verify: (message, signature) => verifyPreEncoded(preEncode(scheme.preEncoding, message), signature) }
}
