import { randomUUID } from 'node:crypto'
import type { Signer } from '../signing/index.js'

/**
 * The X-FBAPI headers for one attempt: a fresh timestamp and nonce each time,
 * so every retry is a new signed request.
 */
export function signedHeaders(signer: Signer, apiKey: string, method: string, endpoint: string, body: Buffer | undefined): Record<string, string> {
  const timestamp = String(Date.now())
  const nonce = randomUUID()
  return {
    'x-fbapi-key': apiKey,
    'x-fbapi-timestamp': timestamp,
    'x-fbapi-nonce': nonce,
    'x-fbapi-signature': signer.signRequest({ timestamp, nonce, method, endpoint, body }),
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'])

/** A retry cannot do anything twice: an idempotent method, or a body Fireblocks deduplicates by its idempotencyKey. */
export function retryable(method: string, body: Buffer | undefined): boolean {
  if (SAFE_METHODS.has(method)) return true
  if (!body || body.length === 0) return false
  try {
    const parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>
    return typeof parsed?.idempotencyKey === 'string' && parsed.idempotencyKey !== ''
  } catch {
    return false
  }
}
