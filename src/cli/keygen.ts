import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { CURVES, type Curve } from '../signing/index.js'
import { parse, required, UsageError } from './usage.js'

/**
 * `nlgw keygen`: a key pair in the PEM forms the official validator reads as
 * SIGNING_PRIVATE_KEY (RSA: PKCS#1 "RSA PRIVATE KEY"; EC: SEC1 "EC PRIVATE KEY")
 * with the public half as SPKI, which the gateway's credentials take.
 */
export function keygenCommand(args: string[]): number {
  const { values } = parse(args, {
    algorithm: { type: 'string' },
    curve: { type: 'string' },
    bits: { type: 'string' },
    out: { type: 'string' },
  })
  const algorithm = required(values, 'algorithm')
  let pair: { privateKey: string; publicKey: string }
  if (algorithm === 'rsa') {
    if (values.curve !== undefined) throw new UsageError('--curve applies to ecdsa only')
    const bits = Number(values.bits ?? 2048)
    if (!Number.isInteger(bits) || bits < 2048 || bits > 8192) throw new UsageError('--bits must be an integer from 2048 to 8192')
    pair = generateKeyPairSync('rsa', {
      modulusLength: bits,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    })
  } else if (algorithm === 'ecdsa') {
    if (values.bits !== undefined) throw new UsageError('--bits applies to rsa only')
    const curve = (values.curve ?? 'prime256v1') as Curve
    if (!CURVES.includes(curve)) throw new UsageError(`--curve must be one of ${CURVES.join(', ')}`)
    pair = generateKeyPairSync('ec', {
      namedCurve: curve,
      privateKeyEncoding: { type: 'sec1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    })
  } else {
    throw new UsageError('--algorithm must be rsa or ecdsa (HMAC needs no key pair)')
  }
  const out = values.out
  if (typeof out === 'string') {
    writeFileSync(`${out}.key`, pair.privateKey, { mode: 0o600 })
    writeFileSync(`${out}.pub`, pair.publicKey)
    process.stdout.write(`wrote ${out}.key (private, mode 600) and ${out}.pub (public)\n`)
  } else {
    process.stdout.write(pair.privateKey + pair.publicKey)
  }
  return 0
}
