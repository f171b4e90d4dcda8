import { LegacyError } from './errors.js'
import { catalog, type AssetType, type Listed, type Network } from './state/catalog.js'

/** How requests name an asset: a fiat/coin ticker (coins optionally with their network) or a token id. */
export interface AssetSpec {
  currency?: string
  token_id?: string
  network?: string
  testnet?: boolean
}

/** How responses describe an asset. `testnet` appears only where the caller supplied it and it is kept. */
export interface AssetDescriptor {
  type: AssetType
  currency: string
  network?: Network
  token_id?: string
  testnet?: boolean
}

export const assetSpecSchema = {
  type: 'object',
  properties: {
    currency: { type: 'string', minLength: 1 },
    token_id: { type: 'string', minLength: 1 },
    network: { type: 'string', minLength: 1 },
    testnet: { type: 'boolean' },
  },
} as const

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The catalogue entry a request names, or undefined for an asset the exchange does not deal in
 * (an unlisted ticker, a coin on another network, or a token id that is not one of ours in form).
 * A well-formed token id that is not listed is a client error: UNKNOWN_TOKEN. `field` is where
 * the spec sits in the request ('' for query parameters).
 */
export function lookupAsset(spec: AssetSpec, field: string): Listed | undefined {
  if ((spec.currency === undefined) === (spec.token_id === undefined)) {
    throw new LegacyError('INVALID_FIELD', `${field} needs exactly one of currency or token_id`, field)
  }
  if (spec.token_id !== undefined) {
    const entry = catalog.get(spec.token_id)
    if (entry?.type === 'TOKEN') return entry
    if (UUID.test(spec.token_id)) throw new LegacyError('UNKNOWN_TOKEN', `no token ${spec.token_id}`, field ? `${field}.token_id` : 'token_id')
    return undefined
  }
  const entry = catalog.get(spec.currency as string)
  if (!entry || entry.type === 'TOKEN') return undefined
  if (spec.network !== undefined && spec.network !== entry.network) return undefined
  return entry
}

/** Like lookupAsset, for trading and transfers: the exchange runs mainnet only, so test assets are never offered. */
export function offeredAsset(spec: AssetSpec, field: string): Listed | undefined {
  const entry = lookupAsset(spec, field)
  return spec.testnet === true ? undefined : entry
}

export function describe(entry: Listed, testnet?: boolean): AssetDescriptor {
  return {
    type: entry.type,
    currency: entry.ticker,
    ...(entry.network === undefined ? {} : { network: entry.network }),
    ...(entry.type === 'TOKEN' ? { token_id: entry.key } : {}),
    ...(testnet === undefined ? {} : { testnet }),
  }
}

/** List filters by asset: `fiat` (ISO code), `coin` (ticker) or `token_id`, at most one. */
export interface AssetFilter {
  fiat?: string
  coin?: string
  token_id?: string
}

export const assetFilterProperties = {
  fiat: { type: 'string', minLength: 1 },
  coin: { type: 'string', minLength: 1 },
  token_id: { type: 'string', minLength: 1 },
} as const

/** A predicate on asset keys. A token id shaped like ours but not listed is an error; anything else unlisted matches nothing. */
export function assetFilter(filter: AssetFilter): (key: string) => boolean {
  const given = (['fiat', 'coin', 'token_id'] as const).filter((name) => filter[name] !== undefined)
  if (given.length > 1) throw new LegacyError('INVALID_QUERY', `use only one of ${given.join(', ')}`, given[1])
  const [name] = given
  if (name === undefined) return () => true
  if (name === 'token_id') lookupAsset({ token_id: filter.token_id as string }, '')
  const type = { fiat: 'FIAT', coin: 'COIN', token_id: 'TOKEN' }[name]
  return (key) => key === filter[name] && catalog.get(key)?.type === type
}
