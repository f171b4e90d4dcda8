import { getHeapStatistics } from 'node:v8'
import type { GatewayConfig } from './config/load.js'
import type { Problem } from './config/problems.js'

/**
 * Without Redis the nonce and idempotency stores live in the heap. A bound the
 * heap cannot hold is a crash waiting for load (V8 aborts the process when it
 * runs out), so it is refused at start-up, while it is still a config mistake.
 * Per-entry sizes are the ones measured for the README's sizing section, with
 * room for the Set's rehash, which briefly holds two tables.
 */
export const BYTES_PER_NONCE = 180
export const BYTES_PER_IDEMPOTENCY_RECORD = 1024
/** The stores may take this share of the heap; the rest is for requests in flight. */
const SHARE = 0.5

export function memoryBudgetProblems(config: GatewayConfig, heapLimit = getHeapStatistics().heap_size_limit): Problem[] {
  if (config.redis) return []
  const mb = (bytes: number) => `${Math.ceil(bytes / 2 ** 20)} MB`
  const nonces = config.auth.nonceMaxEntries * BYTES_PER_NONCE
  const records = config.idempotency.maxEntries * BYTES_PER_IDEMPOTENCY_RECORD
  if (nonces + records <= heapLimit * SHARE) return []
  return [
    {
      file: config.file,
      path: 'auth.nonceStore.maxEntries',
      message:
        `without Redis, ${config.auth.nonceMaxEntries.toLocaleString('en-US')} nonces and ${config.idempotency.maxEntries.toLocaleString('en-US')} idempotency records ` +
        `(idempotency.maxEntries) need about ${mb(nonces + records)} of heap, more than half of this process's ${mb(heapLimit)} ` +
        `(--max-old-space-size): lower the bounds, raise the heap, or configure redis`,
    },
  ]
}
