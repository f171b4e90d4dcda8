import type { SigningScheme } from '../signing/index.js'
import { TtlCache } from './cache.js'
import { buildCredential, type Credential } from './credential.js'
import type { CredentialSource } from './sources.js'

export interface ResolverOptions {
  /** Credentials from the config's files: checked first, never expire; replaced on reload. */
  fixed: ReadonlyMap<string, Credential>
  /** Redis / HTTP sources, tried in order on a cache miss. */
  sources: readonly CredentialSource[]
  defaultScheme: SigningScheme
  cache: { ttlMs: number; negativeTtlMs: number; maxEntries: number }
  onCacheLookup?: (hit: boolean) => void
}

/**
 * API key → credential. Dynamic lookups are cached (hits and misses), bounded
 * in size, and coalesced: concurrent requests with the same key share one
 * lookup. Keys are parsed into verifiers once per cache fill.
 */
export class CredentialResolver {
  private readonly cache: TtlCache<Credential | null>
  private readonly inflight = new Map<string, Promise<Credential | undefined>>()

  constructor(private readonly options: ResolverOptions) {
    this.cache = new TtlCache(options.cache.maxEntries)
  }

  get cachedEntries(): number {
    return this.cache.size
  }

  async resolve(apiKey: string): Promise<Credential | undefined> {
    const fixed = this.options.fixed.get(apiKey)
    if (fixed !== undefined || this.options.sources.length === 0) return fixed
    const cached = this.cache.get(apiKey)
    this.options.onCacheLookup?.(cached !== undefined)
    if (cached !== undefined) return cached.value ?? undefined
    let pending = this.inflight.get(apiKey)
    if (pending === undefined) {
      pending = this.fetch(apiKey).finally(() => this.inflight.delete(apiKey))
      this.inflight.set(apiKey, pending)
    }
    return pending
  }

  /** A reload's credential files replace the old ones at once; cached lookups are forgotten. */
  replaceFixed(fixed: ReadonlyMap<string, Credential>): void {
    this.options.fixed = fixed
    this.cache.clear()
  }

  private async fetch(apiKey: string): Promise<Credential | undefined> {
    const { sources, defaultScheme, cache } = this.options
    for (const source of sources) {
      const record = await source.lookup(apiKey)
      if (record !== undefined) {
        const credential = buildCredential(apiKey, record, defaultScheme)
        this.cache.set(apiKey, credential, cache.ttlMs)
        return credential
      }
    }
    this.cache.set(apiKey, null, cache.negativeTtlMs)
    return undefined
  }
}
