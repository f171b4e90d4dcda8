import { createPrivateKey, createPublicKey, createSecretKey, X509Certificate, type KeyObject } from 'node:crypto'
import type { Algorithm, Curve, SigningScheme } from './scheme.js'

/**
 * Key material parsed once into reusable KeyObjects. HMAC secrets are the
 * secret's UTF-8 bytes, as the official validator uses them; a single trailing
 * newline (left by `echo secret > file`) is not part of the secret.
 */
export class KeyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'KeyError'
  }
}

/** A key parsed for one algorithm: a private or secret key to sign with, a public or secret key to verify with. */
export interface SchemeKey {
  algorithm: Algorithm
  key: KeyObject
  curve?: Curve
}

export function hmacSecret(material: string | Buffer): KeyObject {
  const text = typeof material === 'string' ? material : material.toString('utf8')
  const secret = text.replace(/\r?\n$/, '')
  if (secret.length === 0) throw new KeyError('HMAC secret is empty')
  // A public key or certificate is no secret: anyone holding it could sign (algorithm confusion), with or
  // without its PEM armour.
  if (/-----BEGIN [A-Z0-9 ]+-----/.test(secret) || isDerKeyOrCertificate(secret)) throw new KeyError('an HMAC secret must not be a PEM key or certificate')
  return createSecretKey(Buffer.from(secret, 'utf8'))
}

/** Base64 text that decodes to a DER public key (SPKI or PKCS#1) or certificate: a PEM body without its armour. */
function isDerKeyOrCertificate(text: string): boolean {
  const compact = text.replace(/\s+/g, '')
  // DER starts with a SEQUENCE (0x30: "M" in base64); shorter than any key or certificate is not one.
  if (compact.length < 60 || !compact.startsWith('M') || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return false
  const der = Buffer.from(compact, 'base64')
  const parses = (read: () => unknown) => {
    try {
      read()
      return true
    } catch {
      return false
    }
  }
  return parses(() => createPublicKey({ key: der, format: 'der', type: 'spki' })) || parses(() => createPublicKey({ key: der, format: 'der', type: 'pkcs1' })) || parses(() => new X509Certificate(der))
}

function isPrivatePem(pem: string): boolean {
  return /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/.test(pem)
}

function checkAsymmetric(key: KeyObject, scheme: SigningScheme): Curve | undefined {
  const type = key.asymmetricKeyType
  if (scheme.algorithm === 'rsa') {
    if (type !== 'rsa') throw new KeyError(`RSA scheme needs an RSA key, got ${type ?? 'unknown'}`)
    return undefined
  }
  if (type !== 'ec') throw new KeyError(`ECDSA scheme needs an EC key, got ${type ?? 'unknown'}`)
  const curve = key.asymmetricKeyDetails?.namedCurve
  if (curve !== 'prime256v1' && curve !== 'secp256k1') {
    throw new KeyError(`ECDSA key is on ${curve ?? 'an unknown curve'}; supported: prime256v1, secp256k1`)
  }
  if (scheme.curve && scheme.curve !== curve) {
    throw new KeyError(`scheme says curve ${scheme.curve} but the key is on ${curve}`)
  }
  return curve
}

function parsePem(parse: () => KeyObject, what: string): KeyObject {
  try {
    return parse()
  } catch (err) {
    throw new KeyError(`cannot read ${what}: ${(err as Error).message}`)
  }
}

/** A signing key: the HMAC secret, or a PEM private key (PKCS#1, PKCS#8 or SEC1). */
export function loadSigningKey(scheme: SigningScheme, material: string | Buffer): SchemeKey {
  if (scheme.algorithm === 'hmac') return { algorithm: 'hmac', key: hmacSecret(material) }
  const key = parsePem(() => createPrivateKey(material), 'private key PEM')
  const curve = checkAsymmetric(key, scheme)
  return curve ? { algorithm: scheme.algorithm, key, curve } : { algorithm: scheme.algorithm, key }
}

/**
 * A verifying key: the HMAC secret, a PEM public key (SPKI or PKCS#1), or a
 * private key PEM whose public half is derived.
 */
export function loadVerifyKey(scheme: SigningScheme, material: string | Buffer): SchemeKey {
  if (scheme.algorithm === 'hmac') return { algorithm: 'hmac', key: hmacSecret(material) }
  const pem = typeof material === 'string' ? material : material.toString('utf8')
  const key = parsePem(
    () => (isPrivatePem(pem) ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem)),
    'public key PEM',
  )
  const curve = checkAsymmetric(key, scheme)
  return curve ? { algorithm: scheme.algorithm, key, curve } : { algorithm: scheme.algorithm, key }
}
