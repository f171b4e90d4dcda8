import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import { isPublicMaterial } from './public-material.js'
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
  // Binary read as text (from a Redis field, say) is mangled into U+FFFD: the secret that verifies is then not the one meant.
  if (secret.includes('\uFFFD') || secret.includes('\u0000')) throw new KeyError('an HMAC secret must be text')
  // A public key or certificate is no secret: anyone holding it could sign (algorithm confusion).
  if (isPublicMaterial(secret)) throw new KeyError('an HMAC secret must not be a public key or certificate, in any encoding')
  return createSecretKey(Buffer.from(secret, 'utf8'))
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
