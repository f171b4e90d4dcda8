import { spawnSync } from 'node:child_process'
import { repoPath } from './paths.js'

export interface IndependentCase {
  op: 'sign' | 'verify'
  algorithm: string
  hash: string
  pre: string
  post: string
  /** Path of the HMAC secret or PEM key the independent side uses. */
  key: string
  message: Buffer
  signature?: string
}

/**
 * Runs cases through test/fixtures/independent.py (Python stdlib + openssl CLI),
 * which shares no code with the gateway.
 */
export function independent(cases: IndependentCase[]): Array<{ signature?: string; valid?: boolean }> {
  const input = JSON.stringify(cases.map((c) => ({ ...c, message: c.message.toString('base64') })))
  const res = spawnSync('python3', [repoPath('test/fixtures/independent.py')], { input, maxBuffer: 64 << 20 })
  if (res.status !== 0) throw new Error(`independent.py failed: ${res.stderr.toString()}`)
  return JSON.parse(res.stdout.toString()) as Array<{ signature?: string; valid?: boolean }>
}
