/**
 * The balances mapping as a competent engineer writes it by hand for the demo
 * exchange: the same output as the demo's YAML (config/demo/mappings), in
 * plain JavaScript. Shared by the hand-written adapter (bench/handwritten.ts)
 * and the in-process pipeline benchmark (bench/pipeline.ts).
 */
export interface Wallet {
  wallet_id: string
  asset: { type: string; currency: string; network?: string; token_id?: string; testnet?: boolean }
  available_minor: number
  held_minor: number
  credit_minor?: number
  decimals: number
}

const BLOCKCHAINS: Record<string, string> = { BITCOIN: 'Bitcoin', ETHEREUM: 'Ethereum', POLYGON: 'Polygon PoS', SOLANA: 'Solana', STELLAR: 'Stellar', TRON: 'TRON', ALGORAND: 'Algorand' }

/** Integer minor units → a decimal string without float arithmetic (1234, 2 → "12.34"). */
function decimal(minor: number | undefined, scale: number): string | undefined {
  if (minor === undefined) return undefined
  const negative = minor < 0
  const digits = String(Math.abs(minor)).padStart(scale + 1, '0')
  const whole = digits.slice(0, digits.length - scale)
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`
}

function asset(a: Wallet['asset']) {
  if (a.type === 'FIAT') return { nationalCurrencyCode: a.currency, testAsset: a.testnet }
  if (a.type === 'TOKEN') return { assetId: a.token_id, testAsset: a.testnet }
  return { blockchain: BLOCKCHAINS[a.network ?? ''], cryptocurrencySymbol: a.currency, testAsset: a.testnet }
}

/** The legacy wallets answer → the Network Link balances page (`limit` items). */
export function balancesOf(answer: { wallets: Wallet[] }, limit: number) {
  return {
    balances: answer.wallets.slice(0, limit).map((w) => ({
      id: w.wallet_id,
      asset: asset(w.asset),
      availableAmount: decimal(w.available_minor, w.decimals),
      lockedAmount: decimal(w.held_minor, w.decimals),
      creditAmount: decimal(w.credit_minor, w.decimals),
    })),
  }
}
