import { LegacyError } from './errors.js'
import { formatMinor } from './money.js'
import { listed } from './state/catalog.js'
import { derivedId, walletKey, type State } from './state/store.js'
import type { Wallet } from './state/types.js'

/**
 * Wallet movements. Money leaves in two steps when it is in flight (hold, then settle
 * or release) and in one step when the exchange books it at once (debit, credit).
 */

export function findWallet(state: State, accountId: string, key: string): Wallet | undefined {
  return state.wallets.get(walletKey(accountId, key))
}

/** A wallet, opened empty on first use. */
export function walletOf(state: State, accountId: string, key: string): Wallet {
  const existing = findWallet(state, accountId, key)
  if (existing) return existing
  const wallet: Wallet = { wallet_id: derivedId('wallet', accountId, key), account_id: accountId, key, available: 0n, held: 0n }
  state.wallets.set(walletKey(accountId, key), wallet)
  return wallet
}

function take(state: State, accountId: string, key: string, amount: bigint): Wallet {
  const wallet = findWallet(state, accountId, key)
  const available = wallet?.available ?? 0n
  if (!wallet || available < amount) {
    const { decimals, ticker } = listed(key)
    throw new LegacyError('INSUFFICIENT_FUNDS', `available ${formatMinor(available, decimals)} ${ticker} is less than ${formatMinor(amount, decimals)}`)
  }
  wallet.available -= amount
  return wallet
}

export function hold(state: State, accountId: string, key: string, amount: bigint): void {
  take(state, accountId, key, amount).held += amount
}

/** Held money left the exchange. */
export function settleHold(state: State, accountId: string, key: string, amount: bigint): void {
  walletOf(state, accountId, key).held -= amount
}

/** Held money returns to the customer. */
export function releaseHold(state: State, accountId: string, key: string, amount: bigint): void {
  const wallet = walletOf(state, accountId, key)
  wallet.held -= amount
  wallet.available += amount
}

export function debit(state: State, accountId: string, key: string, amount: bigint): void {
  take(state, accountId, key, amount)
}

export function credit(state: State, accountId: string, key: string, amount: bigint): void {
  walletOf(state, accountId, key).available += amount
}
