/**
 * Reference data: the networks, currencies and tokens the exchange deals in, with its
 * reference USD prices. Fiat and coins are keyed by ticker, tokens by their token id.
 */

export type Network = 'BITCOIN' | 'ETHEREUM' | 'POLYGON' | 'SOLANA' | 'STELLAR' | 'TRON' | 'ALGORAND'
export type AssetType = 'FIAT' | 'COIN' | 'TOKEN'
export type TokenStandard = 'ERC20' | 'SPL' | 'STELLAR_ASSET' | 'TRC20'

export interface TokenInfo {
  name: string
  description: string
  standard: TokenStandard
  /** ERC-20/TRC-20 contract address or SPL mint address. */
  contract?: string
  /** Stellar assets are issuer + asset code instead of a contract. */
  issuer?: string
  assetCode?: string
}

export interface Listed {
  key: string
  type: AssetType
  ticker: string
  /** Ledger scale: amounts of this asset are kept as integers of 10^-decimals. */
  decimals: number
  network?: Network
  token?: TokenInfo
  usdPrice: string
}

export const TOKENS = {
  usdcEthereum: 'de0c3b83-ba2d-4223-b8de-f35df08593ab',
  usdtEthereum: '7ba49b99-8af7-472d-b840-3fefa81263dc',
  usdcPolygon: '3a936f45-7fc1-4b0b-9764-1f1cabfacd30',
  usdcSolana: 'ad3f2d77-6830-4bf4-9f02-4bbfcf2059f9',
  usdcStellar: '24966830-d038-4363-838a-1e6b49bcc5ac',
  usdtTron: 'f368ea38-cd69-47f8-9d8f-a9a9e6b0ef6d',
} as const

const fiat = (ticker: string, usdPrice: string): Listed => ({ key: ticker, type: 'FIAT', ticker, decimals: 2, usdPrice })
const coin = (ticker: string, network: Network, decimals: number, usdPrice: string): Listed => ({
  key: ticker,
  type: 'COIN',
  ticker,
  decimals,
  network,
  usdPrice,
})
const token = (key: string, ticker: string, network: Network, decimals: number, usdPrice: string, info: TokenInfo): Listed => ({
  key,
  type: 'TOKEN',
  ticker,
  decimals,
  network,
  token: info,
  usdPrice,
})

const USDC_TEXT = 'USD Coin, a fully reserved US dollar stablecoin issued by Circle.'
const USDT_TEXT = 'Tether USD, a US dollar stablecoin issued by Tether.'

const LISTED: Listed[] = [
  fiat('USD', '1'),
  fiat('EUR', '1.08'),
  fiat('GBP', '1.27'),
  // The ledger keeps 8 decimals for ETH, MATIC and SOL (not their on-chain 18/18/9).
  coin('BTC', 'BITCOIN', 8, '65000'),
  coin('ETH', 'ETHEREUM', 8, '3200'),
  coin('MATIC', 'POLYGON', 8, '0.7'),
  coin('SOL', 'SOLANA', 8, '150'),
  coin('XLM', 'STELLAR', 7, '0.11'),
  coin('TRX', 'TRON', 6, '0.12'),
  coin('ALGO', 'ALGORAND', 6, '0.18'),
  token(TOKENS.usdcEthereum, 'USDC', 'ETHEREUM', 6, '1', {
    name: 'USD Coin',
    description: USDC_TEXT,
    standard: 'ERC20',
    contract: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48',
  }),
  token(TOKENS.usdtEthereum, 'USDT', 'ETHEREUM', 6, '1', {
    name: 'Tether USD',
    description: USDT_TEXT,
    standard: 'ERC20',
    contract: '0xdAC17F958D2ee523a2206206994597C13D831ec7',
  }),
  token(TOKENS.usdcPolygon, 'USDC', 'POLYGON', 6, '1', {
    name: 'USD Coin (Polygon)',
    description: USDC_TEXT,
    standard: 'ERC20',
    contract: '0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359',
  }),
  token(TOKENS.usdcSolana, 'USDC', 'SOLANA', 6, '1', {
    name: 'USD Coin (Solana)',
    description: USDC_TEXT,
    standard: 'SPL',
    contract: 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v',
  }),
  token(TOKENS.usdcStellar, 'USDC', 'STELLAR', 7, '1', {
    name: 'USD Coin (Stellar)',
    description: USDC_TEXT,
    standard: 'STELLAR_ASSET',
    issuer: 'GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN',
    assetCode: 'USDC',
  }),
  token(TOKENS.usdtTron, 'USDT', 'TRON', 6, '1', {
    name: 'Tether USD (TRON)',
    description: USDT_TEXT,
    standard: 'TRC20',
    contract: 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t',
  }),
]

export const catalog: ReadonlyMap<string, Listed> = new Map(LISTED.map((entry) => [entry.key, entry]))
export const listedTokens: readonly Listed[] = LISTED.filter((entry) => entry.type === 'TOKEN')

/** Catalogue entry by key; keys in seed data and stored records are always listed. */
export function listed(key: string): Listed {
  const entry = catalog.get(key)
  if (!entry) throw new RangeError(`not in the catalogue: ${key}`)
  return entry
}

/** The network an on-chain asset lives on. */
export function networkOf(key: string): Network {
  const network = listed(key).network
  if (!network) throw new RangeError(`${key} is not an on-chain asset`)
  return network
}
