import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './temp.js'

export interface KeyFiles {
  /** The private key in each PEM form the gateway reads. */
  privateForms: Record<string, string>
  /** The public key in each PEM form the gateway reads. */
  publicForms: Record<string, string>
  /** Paths for the independent side: a private key and its SPKI public key. */
  privatePath: string
  publicPath: string
}

function openssl(...args: string[]): Buffer {
  return execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Keys made by the openssl CLI at test time, never by the code under test. */
export function makeKeys(kind: 'rsa' | 'prime256v1' | 'secp256k1', dir = tempDir('nlgw-keys-')): KeyFiles {
  const privatePath = join(dir, `${kind}.pkcs8.pem`)
  const publicPath = join(dir, `${kind}.spki.pem`)
  if (kind === 'rsa') openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', privatePath)
  else openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${kind}`, '-out', privatePath)
  openssl('pkey', '-in', privatePath, '-pubout', '-out', publicPath)
  const pkcs8 = readFileSync(privatePath, 'utf8')
  const spki = readFileSync(publicPath, 'utf8')
  if (kind === 'rsa') {
    return {
      privateForms: { pkcs8, pkcs1: openssl('rsa', '-in', privatePath, '-traditional').toString() },
      publicForms: { spki, pkcs1: openssl('rsa', '-in', privatePath, '-RSAPublicKey_out').toString() },
      privatePath,
      publicPath,
    }
  }
  return {
    privateForms: { pkcs8, sec1: openssl('ec', '-in', privatePath).toString() },
    publicForms: { spki },
    privatePath,
    publicPath,
  }
}

export function hmacSecretFile(secret: string, dir = tempDir('nlgw-keys-')): string {
  const path = join(dir, 'hmac.secret')
  writeFileSync(path, secret)
  return path
}
