/**
 * Pre-signed request pools: every gateway request carries a fresh timestamp
 * and a unique nonce, signed before the run so that the load generator only
 * replays bytes. A pool must outlast its run (a reused nonce is a fast 401);
 * runs with errors are redone with a larger pool by the caller.
 */
import { randomUUID } from 'node:crypto'
import type { Signer } from '../src/signing/index.js'
import type { RawRequest } from './wrk.js'

export interface Signing {
  apiKey: string
  signer: Signer
  /** The Network Link base path, not part of the signed endpoint. */
  basePath: string
}

export function signedRequests(signing: Signing, method: string, path: string, count: number, body?: string): RawRequest[] {
  const out: RawRequest[] = new Array(count)
  const endpoint = path.slice(signing.basePath.length)
  for (let i = 0; i < count; i++) {
    const timestamp = String(Date.now())
    const nonce = randomUUID()
    out[i] = {
      method,
      path,
      headers: {
        'x-fbapi-key': signing.apiKey,
        'x-fbapi-timestamp': timestamp,
        'x-fbapi-nonce': nonce,
        'x-fbapi-signature': signing.signer.signRequest({ timestamp, nonce, method, endpoint, body }),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    }
  }
  return out
}

/** The same unsigned request, `count` times (backends and plain proxies). */
export function plainRequests(method: string, path: string, headers: Record<string, string>, count: number, body?: string): RawRequest[] {
  const request: RawRequest = { method, path, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body } : {}) }
  return Array.from({ length: count }, () => request)
}
