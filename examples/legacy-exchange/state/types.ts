/** Stored records. Amounts are BigInt minor units at the ledger scale of their asset (`key` into the catalogue). */

export interface User {
  user_id: string
  legal_name: string
  street: string
  city: string
  postcode: string
  country: string
}

export type AccountStatus = 'OPEN' | 'FROZEN'

export interface Account {
  account_id: string
  user_id: string
  parent_account_id: string | null
  label: string
  notes: string | null
  status: AccountStatus
  created_ms: number
  payout_methods: string[]
  deposit_methods: string[]
  ramp_routes: string[]
}

export interface Wallet {
  wallet_id: string
  account_id: string
  key: string
  available: bigint
  held: bigint
}

/** Ordering of records that are listed newest-first; ties in created_ms keep insertion order. */
export interface Sequenced {
  seq: number
  created_ms: number
}

export type Rail = 'ONCHAIN' | 'IBAN' | 'BOOK' | 'INTERNAL'
/** Who may receive an INTERNAL transfer: any account of the same user, or only the parent account. */
export type InternalScope = 'ANY_OWN' | 'PARENT_ONLY'

export interface PayoutMethod {
  method_id: string
  rail: Rail
  debit: string
  send: string
  min: bigint
  fee: bigint
  scope?: InternalScope
}

export interface DepositMethod {
  method_id: string
  rail: Rail
  asset: string
  credit: string
  /** Whether customers may create their own deposit addresses for this method. */
  self_service: boolean
  scope?: InternalScope
}

export interface Beneficiary {
  name: string
  street?: string
  city?: string
  postcode?: string
  region?: string
  country?: string
}

/** 10 pending compliance review, 20 processing (sent to chain/bank), 30 completed, 40 rejected, 50 failed. */
export type PayoutStatus = 10 | 20 | 30 | 40 | 50

export interface Payout extends Sequenced {
  payout_id: string
  account_id: string
  method_id: string
  rail: Rail
  debit: string
  amount: bigint
  send: string
  send_amount: bigint
  fee: bigint
  status: PayoutStatus
  address?: string
  memo?: string
  iban?: string
  beneficiary?: Beneficiary
  to_account?: string
  reference?: string
  client_ref?: string
  travel_rule?: object
  tx_hash?: string
  updated_ms: number
  completed_ms?: number
  history: { status: PayoutStatus; note: string; at_ms: number }[]
}

export type DepositStatus = 'PENDING' | 'CREDITED' | 'RETURNED'

export interface Deposit extends Sequenced {
  deposit_id: string
  account_id: string
  rail: Rail
  /** The asset that arrived, and the wallet asset credited. */
  asset: string
  credit: string
  amount: bigint
  status: DepositStatus
  deposit_address_id?: string
  tx_hash?: string
  from_address?: string
  to_address?: string
  memo?: string
  payer_name?: string
  payer_iban?: string
  reference?: string
  from_account?: string
  /** When the deposit was credited or returned. */
  settled_ms?: number
}

export interface DepositAddress extends Sequenced {
  address_id: string
  account_id: string
  rail: 'ONCHAIN' | 'IBAN'
  asset: string
  address?: string
  memo?: string
  iban?: string
  bic?: string
  holder?: Beneficiary
  state: 'ACTIVE' | 'DISABLED'
  disabled_ms?: number
}

export interface ConvertPair {
  pair_id: string
  sell: string
  buy: string
  fee_bps: number
}

export interface Book {
  book_id: string
  base: string
  quote: string
}

export type QuoteState = 'OPEN' | 'FILLED' | 'EXPIRED'

export interface Quote extends Sequenced {
  quote_id: string
  account_id: string
  pair_id: string
  sell: string
  buy: string
  sell_amount: bigint
  buy_amount: bigint
  fee_bps: number
  state: QuoteState
  expires_ms: number
  filled_ms?: number
}

export type RampKind = 'BUY' | 'SELL' | 'BRIDGE'
export type RampRail = 'IBAN' | 'ACH' | 'SEPA' | 'ONCHAIN'
export type AchAccountType = 'CHECKING' | 'SAVINGS'

/** Where money is sent or collected: a chain address or bank coordinates, depending on the rail. */
export interface Endpoint {
  rail: RampRail
  address?: string
  memo?: string
  iban?: string
  bic?: string
  bank_name?: string
  routing_number?: string
  account_number?: string
  account_type?: AchAccountType
  beneficiary?: Beneficiary
  reference?: string
}

export interface RampRoute {
  route_id: string
  kind: RampKind
  /** BALANCE: paid from the customer's wallet (prefunded); otherwise paid in over the rail. */
  source: { key: string; rail: RampRail | 'BALANCE' }
  target: { key: string; rail: RampRail }
  min_amount: bigint
  fee_bps: number
  /** Flat network fee in target units, charged on on-chain delivery. */
  network_fee?: bigint
  ttl_s: number
}

export type RampState = 'AWAITING_FUNDS' | 'IN_PROGRESS' | 'DONE' | 'FAILED' | 'REFUNDED' | 'EXPIRED'

export interface RampFee {
  kind: 'TRADING' | 'NETWORK'
  key: string
  basis: 'BPS' | 'FLAT'
  bps?: number
  flat?: bigint
}

export interface RampPricing {
  mode: 'QUOTE'
  quote_ref: string
  requote?: { mode: 'RETRY' | 'MARKET'; slippage_bps?: number; max_attempts?: number }
}

export interface Ramp extends Sequenced {
  ramp_id: string
  account_id: string
  route_id: string
  kind: RampKind
  funding: 'PAYIN' | 'BALANCE'
  amount: bigint
  source: { key: string; rail: RampRail | 'BALANCE'; from_account?: string; address?: string }
  target: Endpoint & { key: string }
  pay_in?: Endpoint
  fees_est: RampFee[]
  pricing?: RampPricing
  customer_ref?: string
  travel_rule?: object
  state: RampState
  updated_ms: number
  expires_ms: number
  /** The customer's payment, once it arrived (pay-in ramps). */
  received?: { amount: bigint; tx_hash?: string }
  /** What was delivered, once the ramp is done. */
  settlement?: {
    payout: { amount: bigint; tx_hash?: string; reference?: string }
    fees: RampFee[]
  }
}

export type Environment = 'PROD' | 'SANDBOX' | 'STAGE'

export interface CvaLink extends Sequenced {
  link_id: string
  account_id: string
  collateral_id: string
  signer_ids: string[]
  environment: Environment
  state: 'ACTIVE' | 'FAILED'
  reason?: string
}

export interface CvaAddress extends Sequenced {
  address_id: string
  collateral_id: string
  key: string
  testnet?: boolean
  address: string
  memo?: string
  recovery_ref: string
}

export interface CvaIntent {
  intent_id: string
  collateral_id: string
  direction: 'DEPOSIT' | 'WITHDRAWAL'
  fb_intent_id: string
  key: string
  testnet?: boolean
  amount: bigint
  decision: 'APPROVE' | 'DECLINE'
  reason?: string
  address?: string
  memo?: string
  created_ms: number
}

export interface CvaTx extends Sequenced {
  tx_id: string
  collateral_id: string
  direction: 'DEPOSIT' | 'WITHDRAWAL'
  fb_tx_id: string
  intent_id: string
  fb_intent_id: string
  /** Deposits: PENDING → CREDITED | REJECTED. Withdrawals: APPROVED | REJECTED when registered. */
  status: 'PENDING' | 'CREDITED' | 'APPROVED' | 'REJECTED'
  reason?: string
  settlement?: { settlement_id: string; settlement_tx_id: string }
  updated_ms: number
}

export interface SettlementLeg {
  /** TO_EXCHANGE: the customer owes, moved out of the CVA; TO_CVA: the exchange owes, moved into it. */
  direction: 'TO_EXCHANGE' | 'TO_CVA'
  key: string
  amount: bigint
  fee?: bigint
  address: string
  memo?: string
  testnet?: boolean
  tx_state: 'NOT_SUBMITTED' | 'PROCESSING' | 'CONFIRMED' | 'FAILED'
}

export type PlanState = 'OPEN' | 'SETTLING' | 'SETTLED' | 'FAILED' | 'SUPERSEDED'

export interface SettlementPlan {
  collateral_id: string
  revision: number
  state: PlanState
  legs: SettlementLeg[]
  settlement_id?: string
  created_ms: number
  updated_ms: number
}
