import { createPublicKey, X509Certificate } from 'node:crypto'

/**
 * Whether a would-be HMAC secret is, in some spelling, a public key or a
 * certificate: anyone holding it could then sign (algorithm confusion). The
 * spellings an operator's record might carry (attack reviews 7–9): PEM in any
 * armour, a JWK, or DER as hex, base64 or base64url, with whitespace, escaped
 * newlines, quotes or a stray character around it, and a bare EC point.
 */
export function isPublicMaterial(secret: string): boolean {
  if (ARMOUR.test(secret) || isJwk(secret)) return true
  const compact = secret.replace(/\\[nr]|[\s"']/g, '')
  const decodings: Buffer[] = [Buffer.from(compact.replace(/[^A-Za-z0-9+/_-]/g, '').replace(/-/g, '+').replace(/_/g, '/'), 'base64')]
  if (/^[0-9a-fA-F:]+$/.test(compact)) decodings.push(Buffer.from(compact.replace(/:/g, ''), 'hex'))
  // One level down: a whole PEM encoded once more is still a PEM.
  return decodings.some((bytes) => ARMOUR.test(bytes.toString('latin1')) || isDerKeyOrCertificate(bytes) || isEcPoint(bytes))
}

const ARMOUR = /BEGIN[A-Z0-9 ]*(?:KEY|CERTIFICATE)/i

function isJwk(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && 'kty' in value
  } catch {
    return false
  }
}

/** A DER SEQUENCE that parses as an SPKI or PKCS#1 public key or an X.509 certificate; bytes after it do not hide it. */
function isDerKeyOrCertificate(bytes: Buffer): boolean {
  const length = derLength(bytes)
  if (length === undefined) return false
  const der = bytes.subarray(0, length)
  return parses(() => createPublicKey({ key: der, format: 'der', type: 'spki' })) || parses(() => createPublicKey({ key: der, format: 'der', type: 'pkcs1' })) || parses(() => new X509Certificate(der))
}

/** The whole length of the DER SEQUENCE `bytes` starts with, or undefined when they start with none. */
function derLength(bytes: Buffer): number | undefined {
  if (bytes.length < 2 || bytes[0] !== 0x30) return undefined
  const first = bytes[1] as number
  if (first < 0x80) return 2 + first
  const octets = first & 0x7f
  if (octets === 0 || octets > 3 || bytes.length < 2 + octets) return undefined
  return 2 + octets + bytes.subarray(2, 2 + octets).reduce((length, byte) => length * 256 + byte, 0)
}

/** SPKI prefixes that make an EC point a key, for the curves Network Link signs with: a bare point is a public key too. */
const EC_SPKI_PREFIXES = [
  // prime256v1, uncompressed and compressed
  '3059301306072a8648ce3d020106082a8648ce3d030107034200',
  '3039301306072a8648ce3d020106082a8648ce3d030107032200',
  // secp256k1, uncompressed and compressed
  '3056301006072a8648ce3d020106052b8104000a034200',
  '3036301006072a8648ce3d020106052b8104000a032200',
].map((hex) => Buffer.from(hex, 'hex'))

function isEcPoint(bytes: Buffer): boolean {
  if (!((bytes.length === 65 && bytes[0] === 0x04) || (bytes.length === 33 && (bytes[0] === 0x02 || bytes[0] === 0x03)))) return false
  // The point must lie on the curve, which OpenSSL checks: random bytes of that shape almost never do.
  return EC_SPKI_PREFIXES.some((prefix) => parses(() => createPublicKey({ key: Buffer.concat([prefix, bytes]), format: 'der', type: 'spki' })))
}

function parses(read: () => unknown): boolean {
  try {
    read()
    return true
  } catch {
    return false
  }
}
