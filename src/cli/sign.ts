import { readFileSync } from 'node:fs'
import { createSigner, createVerifier, parseScheme, SchemeError, KeyError, type SchemeField, type SigningScheme } from '../signing/index.js'
import { parse, required, UsageError, type Options } from './usage.js'

const FLAGS: Record<SchemeField, string> = {
  algorithm: '--algorithm',
  hash: '--hash',
  curve: '--curve',
  preEncoding: '--pre-encoding',
  postEncoding: '--post-encoding',
}

/** The scheme flags, and --key: shared by sign, verify and curl. */
export const schemeOptions: Options = {
  algorithm: { type: 'string' },
  hash: { type: 'string' },
  curve: { type: 'string' },
  'pre-encoding': { type: 'string' },
  'post-encoding': { type: 'string' },
  key: { type: 'string' },
}

export function schemeFrom(values: Record<string, unknown>): SigningScheme {
  try {
    return parseScheme({
      algorithm: values.algorithm,
      hash: values.hash,
      curve: values.curve,
      preEncoding: values['pre-encoding'],
      postEncoding: values['post-encoding'],
    })
  } catch (err) {
    if (err instanceof SchemeError) throw new UsageError(err.problems.map((p) => `${FLAGS[p.field]}: ${p.message}`).join('\n'))
    throw err
  }
}

function readKey(path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new UsageError(`cannot read --key ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
}

function withKey<T>(make: () => T): T {
  try {
    return make()
  } catch (err) {
    if (err instanceof KeyError) throw new UsageError(err.message)
    throw err
  }
}

/** `nlgw sign`: prints the signature header value for --message. */
export function signCommand(args: string[]): number {
  const { values } = parse(args, { ...schemeOptions, message: { type: 'string' } })
  const scheme = schemeFrom(values)
  const key = readKey(required(values, 'key'))
  const message = required(values, 'message')
  const signer = withKey(() => createSigner(scheme, key))
  process.stdout.write(signer.sign(Buffer.from(message, 'utf8')) + '\n')
  return 0
}

/** `nlgw verify`: exit 0 when --signature is valid for --message, 1 when not. */
export function verifyCommand(args: string[]): number {
  const { values } = parse(args, { ...schemeOptions, message: { type: 'string' }, signature: { type: 'string' } })
  const scheme = schemeFrom(values)
  const key = readKey(required(values, 'key'))
  const message = required(values, 'message')
  const signature = required(values, 'signature')
  const verifier = withKey(() => createVerifier(scheme, key))
  const outcome = verifier.verify(Buffer.from(message, 'utf8'), signature)
  if (outcome === 'valid') {
    process.stdout.write('valid\n')
    return 0
  }
  process.stdout.write(`invalid (${outcome})\n`)
  return 1
}
