/**
 * A signing scheme: the choices a provider makes at Fireblocks onboarding.
 * Validated once, up front, so an impossible combination is a configuration
 * error at start-up rather than a failed request at run time.
 */
export const ALGORITHMS = ['hmac', 'rsa', 'ecdsa'] as const
export const HASHES = ['sha256', 'sha512', 'sha3-256'] as const
export const CURVES = ['prime256v1', 'secp256k1'] as const
export const PRE_ENCODINGS = ['plain', 'url-encoded', 'base64', 'hexstr', 'base58', 'base32'] as const
export const POST_ENCODINGS = ['base64', 'hexstr', 'base58', 'base32'] as const

export type Algorithm = (typeof ALGORITHMS)[number]
export type Hash = (typeof HASHES)[number]
export type Curve = (typeof CURVES)[number]
export type PreEncoding = (typeof PRE_ENCODINGS)[number]
export type PostEncoding = (typeof POST_ENCODINGS)[number]

export interface SigningScheme {
  algorithm: Algorithm
  hash: Hash
  /** ECDSA only; when omitted the curve is taken from the key. */
  curve?: Curve
  preEncoding: PreEncoding
  postEncoding: PostEncoding
}

export type SchemeField = keyof SigningScheme

export interface SchemeProblem {
  field: SchemeField
  message: string
}

export class SchemeError extends Error {
  constructor(readonly problems: SchemeProblem[]) {
    super(`invalid signing scheme: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`)
    this.name = 'SchemeError'
  }
}

function pick<T extends string>(
  problems: SchemeProblem[],
  field: SchemeField,
  value: unknown,
  allowed: readonly T[],
): T | undefined {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
  const shown = value === undefined ? 'missing' : `${JSON.stringify(value)} is not supported`
  problems.push({ field, message: `${shown} (expected one of ${allowed.join(', ')})` })
  return undefined
}

/** Validates an untrusted scheme description, reporting every problem at once. */
export function parseScheme(input: unknown): SigningScheme {
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>
  const problems: SchemeProblem[] = []
  const algorithm = pick(problems, 'algorithm', raw.algorithm, ALGORITHMS)
  const hash = pick(problems, 'hash', raw.hash, HASHES)
  const preEncoding = pick(problems, 'preEncoding', raw.preEncoding, PRE_ENCODINGS)
  const postEncoding = pick(problems, 'postEncoding', raw.postEncoding, POST_ENCODINGS)
  const curve = raw.curve === undefined ? undefined : pick(problems, 'curve', raw.curve, CURVES)

  if (algorithm === 'ecdsa' && hash !== undefined && hash !== 'sha256') {
    problems.push({ field: 'hash', message: `ECDSA is defined with sha256 only, not ${hash}` })
  }
  if (curve !== undefined && algorithm !== undefined && algorithm !== 'ecdsa') {
    problems.push({ field: 'curve', message: `only ECDSA takes a curve, not ${algorithm}` })
  }
  if (problems.length > 0 || !algorithm || !hash || !preEncoding || !postEncoding) {
    throw new SchemeError(problems)
  }
  return curve ? { algorithm, hash, curve, preEncoding, postEncoding } : { algorithm, hash, preEncoding, postEncoding }
}
