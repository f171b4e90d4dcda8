import { createHash } from 'node:crypto'
import { networkOf } from './catalog.js'
import { chainAddress, PARTNER_BIC, virtualIban } from './addresses.js'
import { seed } from './seed.js'
import type {
  Account,
  Beneficiary,
  Book,
  ConvertPair,
  CvaAddress,
  CvaIntent,
  CvaLink,
  CvaTx,
  Deposit,
  DepositAddress,
  DepositMethod,
  Payout,
  PayoutMethod,
  Quote,
  Ramp,
  RampRoute,
  SettlementPlan,
  User,
  Wallet,
} from './types.js'

/** Everything the exchange knows, in memory. Maps iterate in insertion (= creation) order. */
export interface State {
  now: () => number
  /** Next sequence number, for stable newest-first listing. */
  seq: () => number
  users: Map<string, User>
  accounts: Map<string, Account>
  /** Keyed by walletKey(account_id, asset key). */
  wallets: Map<string, Wallet>
  payoutMethods: Map<string, PayoutMethod>
  depositMethods: Map<string, DepositMethod>
  rampRoutes: Map<string, RampRoute>
  pairs: Map<string, ConvertPair>
  books: Map<string, Book>
  depositAddresses: Map<string, DepositAddress>
  deposits: Map<string, Deposit>
  payouts: Map<string, Payout>
  quotes: Map<string, Quote>
  ramps: Map<string, Ramp>
  cva: CvaState
}

export interface CvaState {
  signers: Set<string>
  eligible: Map<string, { advance_bps: number; network_fee: bigint }>
  links: Map<string, CvaLink>
  addresses: Map<string, CvaAddress>
  intents: Map<string, CvaIntent>
  txs: Map<string, CvaTx>
  /** collateral id → asset key → collateral credited to the CVA. */
  holdings: Map<string, Map<string, bigint>>
  /** collateral id → asset key → signed settlement position (negative: the customer owes). */
  positions: Map<string, Map<string, bigint>>
  /** collateral id → settlement plans, by ascending revision; the last one is current. */
  plans: Map<string, SettlementPlan[]>
}

/** A stable id for a record the seed does not name (wallets), so restarts keep them. */
export function derivedId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('/')).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

const byId = <T, K extends keyof T>(items: T[], id: K): Map<string, T> => new Map(items.map((item) => [item[id] as string, item]))

function nested(rows: { collateral_id: string; key: string; amount: bigint }[]): Map<string, Map<string, bigint>> {
  const out = new Map<string, Map<string, bigint>>()
  for (const { collateral_id, key, amount } of rows) {
    const inner = out.get(collateral_id) ?? new Map<string, bigint>()
    inner.set(key, amount)
    out.set(collateral_id, inner)
  }
  return out
}

export function createState(now: () => number): State {
  const data = seed()
  let counter = 0
  const seq = () => ++counter
  const sequenced = <T extends object>(items: T[]): (T & { seq: number })[] => items.map((item) => ({ ...item, seq: seq() }))

  const users = byId(data.users, 'user_id')
  const accounts = byId(data.accounts, 'account_id')
  // Seeded deposit addresses get their coordinates the same way new ones do.
  const depositAddresses = byId(
    sequenced(data.depositAddresses).map((record): DepositAddress => {
      if (record.rail === 'ONCHAIN') return { ...record, ...chainAddress(networkOf(record.asset), record.address_id) }
      const owner = users.get(accounts.get(record.account_id)?.user_id ?? '')
      return { ...record, iban: virtualIban(record.address_id), bic: PARTNER_BIC, ...(owner ? { holder: holderOf(owner) } : {}) }
    }),
    'address_id',
  )
  // Seeded on-chain deposits name the address they arrived on.
  const deposits = sequenced(data.deposits).map((deposit): Deposit => {
    const target = deposit.deposit_address_id ? depositAddresses.get(deposit.deposit_address_id) : undefined
    return target?.address ? { ...deposit, to_address: target.address, ...(target.memo ? { memo: target.memo } : {}) } : deposit
  })

  return {
    now,
    seq,
    users,
    accounts,
    wallets: new Map(
      data.balances.map(({ account_id, key, available, held }) => [walletKey(account_id, key), { wallet_id: derivedId('wallet', account_id, key), account_id, key, available, held }]),
    ),
    payoutMethods: byId(data.payoutMethods, 'method_id'),
    depositMethods: byId(data.depositMethods, 'method_id'),
    rampRoutes: byId(data.rampRoutes, 'route_id'),
    pairs: byId(data.pairs, 'pair_id'),
    books: byId(data.books, 'book_id'),
    depositAddresses,
    deposits: byId(deposits, 'deposit_id'),
    payouts: byId(sequenced(data.payouts), 'payout_id'),
    quotes: byId(sequenced(data.quotes), 'quote_id'),
    ramps: byId(sequenced(data.ramps), 'ramp_id'),
    cva: {
      signers: new Set(data.cva.signers),
      eligible: new Map(data.cva.eligible.map(({ key, ...policy }) => [key, policy])),
      links: byId(sequenced(data.cva.links), 'link_id'),
      addresses: byId(sequenced(data.cva.addresses), 'address_id'),
      intents: new Map(),
      txs: new Map(),
      holdings: nested(data.cva.holdings),
      positions: nested(data.cva.positions),
      plans: new Map(),
    },
  }
}

export const walletKey = (accountId: string, key: string): string => `${accountId}/${key}`

export function holderOf(user: User): Beneficiary {
  return { name: user.legal_name, street: user.street, city: user.city, postcode: user.postcode, country: user.country }
}
