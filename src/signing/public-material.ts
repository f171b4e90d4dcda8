import { createPublicKey, X509Certificate } from 'node:crypto'

/**
 * Whether a would-be HMAC secret is, in some spelling, a public key or a
 * certificate: anyone holding it could then sign (algorithm confusion). A
 * guard against an operator's slip, not a classifier of every encoding: the
 * root defence is that a credential's key field must be the one its algorithm
 * takes (credential.ts). Recognised (attack reviews 7–11): PEM armour, OpenSSH
 * public keys, JWK and JWKS, DER as hex or base64(url) anywhere in the text
 * (after a label or prefix, with whitespace, escaped newlines, quotes or a
 * stray character around it, URL-encoded, or base64 of those once more), and
 * an uncompressed EC point (with or without its 04). Not base58, nor a bare
 * RSA modulus; never a bare compressed point: half of all random 33-byte
 * strings are one.
 */
export function isPublicMaterial(secret: string): boolean {
  const text = secret.replace(/^\uFEFF/, '').trim()
  if (ARMOUR.test(text) || SSH.test(text) || isJwk(text)) return true
  // The whole text, what follows a label (`public_key: …`, `PUBKEY=…`, `rsa:…`), and what follows its first line or
  // separator (a label above base64 printed over several lines).
  const afterLabel = [text.split(/[:=\s]/).at(-1) ?? '', text.replace(/^[^:=\n]*[:=\n]/, '')]
  return [text, ...afterLabel].flatMap(spellings).some((bytes) => ARMOUR.test(bytes.toString('latin1')) || holdsKey(bytes) || spellings(bytes.toString('latin1')).some(holdsKey))
}

/** A DER key or certificate anywhere in `bytes` (a prefix before it misaligns nothing), or an EC point. */
function holdsKey(bytes: Buffer): boolean {
  if (isEcPoint(bytes)) return true
  // Within the first 4 KiB: past a key's own length (an RSA-4096 SPKI is 550 bytes) plus any label, and the scan stays cheap.
  for (let at = bytes.indexOf(0x30); at !== -1 && at < 4096; at = bytes.indexOf(0x30, at + 1)) {
    if (isDerKeyOrCertificate(bytes.subarray(at))) return true
  }
  return false
}

/** PEM armour: at least two dashes, BEGIN, then a key or certificate label (not "begin with the key"). */
const ARMOUR = /-{2,}\s*BEGIN [A-Z0-9 ]*(?:KEY|CERTIFICATE)/i
const SSH = /^(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-\S+) AAAA/

/** The bytes `text` may spell as hex or as base64(url), after prefixes and padding are set aside. */
function spellings(text: string): Buffer[] {
  const compact = text.replace(/\\[nr]|[\s"']/g, '').replace(/^(?:0x|hex:|base64:)/i, '')
  const base64 = decodeURIComponentSafe(compact).replace(/[^A-Za-z0-9+/_-]/g, '').replace(/-/g, '+').replace(/_/g, '/')
  // At each of the four alignments: a prefix of any length before the base64 (`pk_`, `pub;`) shifts every byte after it.
  const decoded = [0, 1, 2, 3].map((skip) => Buffer.from(base64.slice(skip), 'base64'))
  if (/^[0-9a-fA-F:-]+$/.test(compact)) decoded.push(Buffer.from(compact.replace(/[:-]/g, ''), 'hex'))
  // A long run of hex digits inside other text (`pk_3082…`).
  for (const run of compact.match(/[0-9a-fA-F]{40,}/g) ?? []) decoded.push(Buffer.from(run.length % 2 === 0 ? run : run.slice(0, -1), 'hex'))
  return decoded
}

/** URL-decoded, twice over if need be. */
function decodeURIComponentSafe(text: string): string {
  let decoded = text
  for (let round = 0; round < 2 && decoded.includes('%'); round++) {
    try {
      decoded = decodeURIComponent(decoded)
    } catch {
      break
    }
  }
  return decoded
}

/** A JWK or JWKS, also as an escaped JSON string: a "kty" member anywhere, or an RSA modulus and exponent, or EC coordinates. */
function isJwk(text: string): boolean {
  const member = (name: string) => new RegExp(`\\\\?"${name}\\\\?"\\s*:`).test(text)
  return member('kty') || (member('n') && member('e')) || (member('x') && member('y'))
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

/** SPKI prefixes that make an uncompressed EC point (04 ‖ x ‖ y) a key, for the curves Network Link signs with. */
const EC_SPKI_PREFIXES = ['3059301306072a8648ce3d020106082a8648ce3d030107034200', '3056301006072a8648ce3d020106052b8104000a034200'].map((hex) => Buffer.from(hex, 'hex'))

/** An uncompressed point on P-256 or secp256k1, with its 04 or without (x ‖ y): random bytes of that shape are one with negligible odds, as y must fit x. */
function isEcPoint(bytes: Buffer): boolean {
  const point = bytes.length === 64 ? Buffer.concat([Buffer.from([0x04]), bytes]) : bytes
  if (point.length !== 65 || point[0] !== 0x04) return false
  return EC_SPKI_PREFIXES.some((prefix) => parses(() => createPublicKey({ key: Buffer.concat([prefix, point]), format: 'der', type: 'spki' })))
}

function parses(read: () => unknown): boolean {
  try {
    read()
    return true
  } catch {
    return false
  }
}
