import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { assetSpecSchema, lookupAsset, type AssetSpec } from '../assets.js'
import { adjustHolding, currentPlan, planRevision, replan } from '../collateral.js'
import { LegacyError } from '../errors.js'
import { BACKOFFICE_PREFIX } from '../http.js'
import { credit, releaseHold, settleHold } from '../ledger.js'
import { toMinor } from '../money.js'
import type { State } from '../state/store.js'
import type { CvaIntent, Deposit, PayoutStatus, RampState } from '../state/types.js'
import { decimalSchema } from '../wire.js'
import { cvaTxView } from './cva.js'
import { depositView } from './deposits.js'
import { payoutView } from './payouts.js'
import { actualFees, deliveredAmount, fundingAccount, rampView, refreshed } from './ramps.js'
import { planView } from './settlements.js'

/**
 * Operator endpoints (header x-legacy-operator): what the exchange's operations staff and
 * chain/bank watchers do — move payouts, deposits, ramps and collateral through their
 * lifecycles. Nothing here is reachable through Network Link.
 */

const PAYOUT_STEPS: Record<number, PayoutStatus[]> = { 10: [20, 40], 20: [30, 50] }
const PAYOUT_NOTES: Record<number, string> = { 20: 'Approved and broadcast', 30: 'Completed', 40: 'Rejected by compliance', 50: 'Failed; funds returned' }
const RAMP_STEPS: Partial<Record<RampState, RampState[]>> = { AWAITING_FUNDS: ['IN_PROGRESS'], IN_PROGRESS: ['DONE', 'FAILED'], FAILED: ['REFUNDED'] }

function transition<S extends string | number>(from: S, to: S, allowed: S[] | undefined): void {
  if (!allowed?.includes(to)) throw new LegacyError('INVALID_TRANSITION', `cannot go from ${from} to ${to}`, 'status')
}

const signedDecimal = /^(-?)(\d+(?:\.\d+)?)$/

export function registerBackofficeRoutes(app: FastifyInstance, state: State): void {
  const base = BACKOFFICE_PREFIX.slice(0, -1)

  app.post<{ Params: { payout_id: string }; Body: { status: PayoutStatus; tx_hash?: string; note?: string } }>(
    `${base}/payouts/:payout_id/status`,
    {
      schema: {
        body: { type: 'object', required: ['status'], properties: { status: { type: 'integer', enum: [20, 30, 40, 50] }, tx_hash: { type: 'string' }, note: { type: 'string' } } },
      },
    },
    async (request) => {
      const payout = state.payouts.get(request.params.payout_id)
      if (!payout) throw new LegacyError('PAYOUT_NOT_FOUND', `no payout ${request.params.payout_id}`)
      const { status, tx_hash, note } = request.body
      transition(payout.status, status, PAYOUT_STEPS[payout.status])
      if (status === 30) settleHold(state, payout.account_id, payout.debit, payout.amount)
      if (status === 40 || status === 50) releaseHold(state, payout.account_id, payout.debit, payout.amount)
      const now = state.now()
      Object.assign(payout, { status, updated_ms: now, ...(tx_hash === undefined ? {} : { tx_hash }), ...(status === 20 ? {} : { completed_ms: now }) })
      payout.history.push({ status, note: note ?? (PAYOUT_NOTES[status] as string), at_ms: now })
      return payoutView(payout)
    },
  )

  app.post<{
    Body: { account_id: string; rail: 'ONCHAIN' | 'IBAN'; asset: AssetSpec; amount: string; deposit_address_id?: string; tx_hash?: string; from_address?: string; payer_name?: string; payer_iban?: string; reference?: string }
  }>(
    `${base}/deposits`,
    {
      schema: {
        body: {
          type: 'object',
          required: ['account_id', 'rail', 'asset', 'amount'],
          properties: {
            account_id: { type: 'string' },
            rail: { type: 'string', enum: ['ONCHAIN', 'IBAN'] },
            asset: assetSpecSchema,
            amount: decimalSchema,
            deposit_address_id: { type: 'string' },
            tx_hash: { type: 'string' },
            from_address: { type: 'string' },
            payer_name: { type: 'string' },
            payer_iban: { type: 'string' },
            reference: { type: 'string' },
          },
        },
      },
    },
    async (request, reply) => {
      const { account_id, rail, asset, amount, deposit_address_id, ...source } = request.body
      if (!state.accounts.has(account_id)) throw new LegacyError('ACCOUNT_NOT_FOUND', `no account ${account_id}`)
      const entry = lookupAsset(asset, 'asset')
      if (!entry) throw new LegacyError('ASSET_NOT_SUPPORTED', 'the exchange does not hold that asset', 'asset')
      // A deposit is always booked with where it arrived (chain) or who sent it (bank).
      const required = rail === 'ONCHAIN' ? (['deposit_address_id', 'tx_hash'] as const) : (['payer_name', 'payer_iban'] as const)
      for (const field of required) {
        if (request.body[field] === undefined) throw new LegacyError('MISSING_FIELD', `${field} is required for ${rail} deposits`, field)
      }
      const address = deposit_address_id === undefined ? undefined : state.depositAddresses.get(deposit_address_id)
      if (deposit_address_id !== undefined && (address?.account_id !== account_id || address.asset !== entry.key)) {
        throw new LegacyError('ADDRESS_NOT_FOUND', `no ${entry.ticker} deposit address ${deposit_address_id} on account ${account_id}`, 'deposit_address_id')
      }
      const deposit: Deposit = {
        deposit_id: randomUUID(),
        account_id,
        rail,
        asset: entry.key,
        credit: entry.key,
        amount: toMinor(amount, entry.decimals, 'amount'),
        status: 'PENDING',
        ...source,
        ...(address ? { deposit_address_id: address.address_id } : {}),
        ...(address?.address === undefined ? {} : { to_address: address.address }),
        ...(address?.memo === undefined ? {} : { memo: address.memo }),
        seq: state.seq(),
        created_ms: state.now(),
      }
      state.deposits.set(deposit.deposit_id, deposit)
      return reply.code(201).send(depositView(deposit))
    },
  )

  app.post<{ Params: { deposit_id: string }; Body: { status: 'CREDITED' | 'RETURNED' } }>(
    `${base}/deposits/:deposit_id/status`,
    { schema: { body: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['CREDITED', 'RETURNED'] } } } } },
    async (request) => {
      const deposit = state.deposits.get(request.params.deposit_id)
      if (!deposit) throw new LegacyError('DEPOSIT_NOT_FOUND', `no deposit ${request.params.deposit_id}`)
      const { status } = request.body
      transition(deposit.status, status, deposit.status === 'PENDING' ? ['CREDITED', 'RETURNED'] : [])
      if (status === 'CREDITED') credit(state, deposit.account_id, deposit.credit, deposit.amount)
      deposit.status = status
      deposit.settled_ms = state.now()
      return depositView(deposit)
    },
  )

  app.post<{ Params: { ramp_id: string }; Body: { state: RampState; tx_hash?: string; reference?: string } }>(
    `${base}/ramps/:ramp_id/state`,
    {
      schema: {
        body: {
          type: 'object',
          required: ['state'],
          properties: { state: { type: 'string', enum: ['IN_PROGRESS', 'DONE', 'FAILED', 'REFUNDED'] }, tx_hash: { type: 'string' }, reference: { type: 'string' } },
        },
      },
    },
    async (request) => {
      const found = state.ramps.get(request.params.ramp_id)
      if (!found) throw new LegacyError('RAMP_NOT_FOUND', `no ramp ${request.params.ramp_id}`)
      const ramp = refreshed(state, found)
      const { state: next, tx_hash, reference } = request.body
      transition(ramp.state, next, RAMP_STEPS[ramp.state])
      const hash = tx_hash === undefined ? {} : { tx_hash }
      // IN_PROGRESS: the customer's payment arrived (tx_hash: its on-chain hash, if any).
      if (next === 'IN_PROGRESS') ramp.received = { amount: ramp.amount, ...hash }
      // DONE: the target was delivered (tx_hash / reference: of the delivery).
      if (next === 'DONE') {
        if (ramp.funding === 'BALANCE') settleHold(state, fundingAccount(ramp), ramp.source.key, ramp.amount)
        ramp.settlement = {
          payout: { amount: deliveredAmount(state, ramp), ...hash, ...(reference === undefined ? {} : { reference }) },
          fees: actualFees(state, ramp),
        }
      }
      if (next === 'REFUNDED' && ramp.funding === 'BALANCE') releaseHold(state, fundingAccount(ramp), ramp.source.key, ramp.amount)
      ramp.state = next
      ramp.updated_ms = state.now()
      return rampView(ramp)
    },
  )

  app.post<{ Params: { tx_id: string }; Body: { status: 'CREDITED' | 'REJECTED'; reason?: string } }>(
    `${base}/cva-deposits/:tx_id/status`,
    {
      schema: {
        body: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['CREDITED', 'REJECTED'] }, reason: { type: 'string', minLength: 1 } } },
      },
    },
    async (request) => {
      const tx = state.cva.txs.get(request.params.tx_id)
      if (tx?.direction !== 'DEPOSIT') throw new LegacyError('CVA_TX_NOT_FOUND', `no collateral deposit ${request.params.tx_id}`)
      const { status, reason } = request.body
      transition(tx.status, status, tx.status === 'PENDING' ? ['CREDITED', 'REJECTED'] : [])
      const intent = state.cva.intents.get(tx.intent_id) as CvaIntent
      if (status === 'CREDITED') adjustHolding(state, tx.collateral_id, intent.key, intent.amount)
      Object.assign(tx, { status, updated_ms: state.now(), ...(status === 'REJECTED' ? { reason: reason ?? 'rejected by operations' } : {}) })
      return cvaTxView(state, tx)
    },
  )

  app.post<{ Params: { collateral_id: string }; Body: { asset: AssetSpec; position: string } }>(
    `${base}/cva/:collateral_id/positions`,
    { schema: { body: { type: 'object', required: ['asset', 'position'], properties: { asset: assetSpecSchema, position: { type: 'string', pattern: signedDecimal.source } } } } },
    async (request) => {
      const { collateral_id } = request.params
      if (![...state.cva.links.values()].some((link) => link.collateral_id === collateral_id && link.state === 'ACTIVE')) {
        throw new LegacyError('COLLATERAL_NOT_FOUND', `no linked collateral account ${collateral_id}`)
      }
      const entry = lookupAsset(request.body.asset, 'asset')
      if (!entry || !state.cva.eligible.has(entry.key)) throw new LegacyError('ASSET_NOT_SUPPORTED', 'positions are kept in collateral assets only', 'asset')
      const [, sign, magnitude] = signedDecimal.exec(request.body.position) as RegExpExecArray
      const amount = toMinor(magnitude as string, entry.decimals, 'position')
      // Checked before the position changes, not left to replan().
      if (currentPlan(state, collateral_id).state === 'SETTLING') throw new LegacyError('SETTLEMENT_IN_PROGRESS', 'positions are frozen while a settlement runs')
      const positions = state.cva.positions.get(collateral_id) ?? new Map<string, bigint>()
      positions.set(entry.key, sign ? -amount : amount)
      state.cva.positions.set(collateral_id, positions)
      return planView(replan(state, collateral_id))
    },
  )

  app.post<{ Params: { collateral_id: string; revision: string }; Body: { state: 'SETTLED' | 'FAILED' } }>(
    `${base}/cva/:collateral_id/settlement-plans/:revision/state`,
    { schema: { body: { type: 'object', required: ['state'], properties: { state: { type: 'string', enum: ['SETTLED', 'FAILED'] } } } } },
    async (request) => {
      const { collateral_id, revision } = request.params
      const plan = planRevision(state, collateral_id, Number(revision))
      if (!plan) throw new LegacyError('SETTLEMENT_PLAN_NOT_FOUND', `no settlement plan revision ${revision}`)
      const next = request.body.state
      transition(plan.state, next, plan.state === 'SETTLING' ? ['SETTLED', 'FAILED'] : [])
      for (const leg of plan.legs) {
        leg.tx_state = next === 'SETTLED' ? 'CONFIRMED' : 'FAILED'
        if (next === 'SETTLED') {
          adjustHolding(state, collateral_id, leg.key, leg.direction === 'TO_EXCHANGE' ? -leg.amount : leg.amount)
          state.cva.positions.get(collateral_id)?.set(leg.key, 0n)
        }
      }
      plan.state = next
      plan.updated_ms = state.now()
      // Whatever the outcome, the next plan is computed from the positions as they now stand.
      return { settled: planView(plan), current: planView(replan(state, collateral_id)) }
    },
  )
}
