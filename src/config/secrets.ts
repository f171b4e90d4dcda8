import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import type { SecretRef } from './schema.js'

/**
 * The one place secrets and keys are read: `{ env: NAME }` from the
 * environment, `{ file: PATH }` relative to the file that names it, or the
 * value itself where the schema allows it inline (a PEM public key, an API
 * key). Throws with a message for the located problem.
 */
export function readSecret(ref: SecretRef | string, baseDir: string, env: NodeJS.ProcessEnv): string {
  if (typeof ref === 'string') return ref
  if (ref.env !== undefined) {
    const value = env[ref.env]
    if (value === undefined || value === '') throw new Error(`environment variable ${ref.env} is not set`)
    return value
  }
  const path = resolve(baseDir, ref.file as string)
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
  }
}
