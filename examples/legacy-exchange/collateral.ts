import { LegacyError } from './errors.js'
import type { State } from './state/store.js'
import type { CvaLink, SettlementLeg, SettlementPlan } from './state/types.js'

/**
 * Off-exchange collateral: a main account linked to a Fireblocks collateral vault account
 * (CVA) gets a credit line against the collateral credited to the CVA, and settles its
 * positions against the CVA through versioned settlement plans.
 */

export function activeLink(state: State, accountId: string): CvaLink | undefined {
  for (const link of state.cva.links.values()) if (link.account_id === accountId && link.state === 'ACTIVE') return link
  return undefined
}

/** The account's active link to this CVA; any other collateral id is unknown to this account. */
export function linkedCva(state: State, accountId: string, collateralId: string): CvaLink {
  const link = activeLink(state, accountId)
  if (!link || link.collateral_id !== collateralId) throw new LegacyError('COLLATERAL_NOT_FOUND', `account ${accountId} has no collateral account ${collateralId}`)
  return link
}

export function holding(state: State, collateralId: string, key: string): bigint {
  return state.cva.holdings.get(collateralId)?.get(key) ?? 0n
}

export function adjustHolding(state: State, collateralId: string, key: string, delta: bigint): void {
  const holdings = state.cva.holdings.get(collateralId) ?? new Map<string, bigint>()
  holdings.set(key, (holdings.get(key) ?? 0n) + delta)
  state.cva.holdings.set(collateralId, holdings)
}

/** Credit lent against the CVA for an eligible asset of a linked account; undefined when none applies. */
export function creditLine(state: State, accountId: string, key: string): bigint | undefined {
  const link = activeLink(state, accountId)
  const policy = state.cva.eligible.get(key)
  if (!link || !policy) return undefined
  return (holding(state, link.collateral_id, key) * BigInt(policy.advance_bps)) / 10_000n
}

/** The plan settlements are initiated against: the latest revision (revision 1 is built from the positions on first use). */
export function currentPlan(state: State, collateralId: string): SettlementPlan {
  const plans = state.cva.plans.get(collateralId)
  return plans?.[plans.length - 1] ?? replan(state, collateralId)
}

export function planRevision(state: State, collateralId: string, revision: number): SettlementPlan | undefined {
  currentPlan(state, collateralId)
  return state.cva.plans.get(collateralId)?.find((plan) => plan.revision === revision)
}

/** Positions changed (or the last plan ended): an open plan is superseded by a new revision. */
export function replan(state: State, collateralId: string): SettlementPlan {
  const plans = state.cva.plans.get(collateralId) ?? []
  const previous = plans[plans.length - 1]
  if (previous?.state === 'SETTLING') throw new LegacyError('SETTLEMENT_IN_PROGRESS', `revision ${previous.revision} is settling`)
  const now = state.now()
  if (previous?.state === 'OPEN') Object.assign(previous, { state: 'SUPERSEDED', updated_ms: now })
  const plan: SettlementPlan = {
    collateral_id: collateralId,
    revision: (previous?.revision ?? 0) + 1,
    state: 'OPEN',
    legs: legsFor(state, collateralId),
    created_ms: now,
    updated_ms: now,
  }
  state.cva.plans.set(collateralId, [...plans, plan])
  return plan
}

/** One leg per non-zero position, to or from the newest CVA address registered for that asset. */
function legsFor(state: State, collateralId: string): SettlementLeg[] {
  const legs: SettlementLeg[] = []
  for (const [key, position] of state.cva.positions.get(collateralId) ?? []) {
    if (position === 0n) continue
    const address = [...state.cva.addresses.values()].filter((a) => a.collateral_id === collateralId && a.key === key).pop()
    if (!address) continue
    const toExchange = position < 0n
    const fee = state.cva.eligible.get(key)?.network_fee
    legs.push({
      direction: toExchange ? 'TO_EXCHANGE' : 'TO_CVA',
      key,
      amount: toExchange ? -position : position,
      ...(toExchange && fee !== undefined ? { fee } : {}),
      address: address.address,
      ...(address.memo === undefined ? {} : { memo: address.memo }),
      ...(address.testnet === undefined ? {} : { testnet: address.testnet }),
      tx_state: 'NOT_SUBMITTED',
    })
  }
  return legs
}
