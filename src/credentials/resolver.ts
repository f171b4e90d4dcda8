import { StoreUnavailableError } from '../nonce/store.js'
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
  /**
   * Known keys and unknown keys are cached apart, each with its own bound, so
   * a flood of made-up keys can neither evict a known one nor reach the
   * sources more than once per key and `negativeTtlMs`.
   */
  cache: { ttlMs: number; negativeTtlMs: number; maxEntries: number; maxUnknown: number }
  /** Lookups in flight at once; beyond that a new key is refused (503) rather than queued. */
  maxLookups?: number
  onCacheLookup?: (hit: boolean) => void
}

/**
 * API key → credential. Dynamic lookups are cached (hits and misses), bounded
 * in size, and coalesced: concurrent requests with the same key share one
 * lookup. A known key past its TTL is served while it is refreshed, for one
 * more TTL at most. Keys are parsed into verifiers once per cache fill.
 */
export class CredentialResolver {
  /** Fresh for `ttlMs`, then served stale for as long again while a refresh runs (see resolve). */
  private readonly known: TtlCache<{ credential: Credential; freshUntil: number }>
  private readonly unknown: TtlCache<true>
  private inflight = new Map<string, Promise<Credential | undefined>>()
  /** Bumped by replaceFixed: a lookup started before it must not fill the cache after it. */
  private generation = 0

  constructor(
    private readonly options: ResolverOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.known = new TtlCache(options.cache.maxEntries, now)
    this.unknown = new TtlCache(options.cache.maxUnknown, now)
  }

  get cachedEntries(): number {
    return this.known.size
  }

  get cachedUnknown(): number {
    return this.unknown.size
  }

  async resolve(apiKey: string): Promise<Credential | undefined> {
    const fixed = this.options.fixed.get(apiKey)
    if (fixed !== undefined || this.options.sources.length === 0) return fixed
    const known = this.known.get(apiKey)?.value
    const hit = known?.credential ?? (this.unknown.get(apiKey) ? null : undefined)
    this.options.onCacheLookup?.(hit !== undefined)
    if (known && known.freshUntil <= this.now()) {
      // Stale: answer with it and refresh behind it, so that a key in use never waits on a lookup slot
      // (a flood of made-up keys can keep every slot busy). A refresh that finds the key gone drops it.
      if (!this.inflight.has(apiKey) && this.inflight.size < (this.options.maxLookups ?? 64)) this.lookup(apiKey).catch(() => {})
    }
    if (hit !== undefined) return hit ?? undefined
    let pending = this.inflight.get(apiKey)
    if (pending === undefined) {
      if (this.inflight.size >= (this.options.maxLookups ?? 64)) throw new StoreUnavailableError('too many credential lookups in flight')
      pending = this.lookup(apiKey)
    }
    return pending
  }

  private lookup(apiKey: string): Promise<Credential | undefined> {
    const inflight = this.inflight
    const pending = this.fetch(apiKey, this.generation).finally(() => inflight.delete(apiKey))
    inflight.set(apiKey, pending)
    return pending
  }

  /** A reload's credential files replace the old ones at once; cached lookups are forgotten. */
  replaceFixed(fixed: ReadonlyMap<string, Credential>): void {
    this.options.fixed = fixed
    this.known.clear()
    this.unknown.clear()
    // Lookups already under way answer their own requests but fill no cache, and new requests do not join them.
    this.generation++
    this.inflight = new Map()
  }

  private async fetch(apiKey: string, generation: number): Promise<Credential | undefined> {
    const { sources, defaultScheme, cache } = this.options
    const current = () => generation === this.generation
    for (const source of sources) {
      const record = await source.lookup(apiKey)
      if (record !== undefined) {
        const credential = buildCredential(apiKey, record, defaultScheme)
        if (current()) this.known.set(apiKey, { credential, freshUntil: this.now() + cache.ttlMs }, 2 * cache.ttlMs)
        return credential
      }
    }
    if (current()) {
      this.known.delete(apiKey)
      this.unknown.set(apiKey, true, cache.negativeTtlMs)
    }
    return undefined
  }
}
