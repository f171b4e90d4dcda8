import type { FastifyInstance } from 'fastify'
import { describe } from '../assets.js'
import { currentPlan, linkedCva, planRevision } from '../collateral.js'
import { LegacyError } from '../errors.js'
import { minorJson } from '../money.js'
import { listed } from '../state/catalog.js'
import type { State } from '../state/store.js'
import type { SettlementLeg, SettlementPlan } from '../state/types.js'
import { orNull, type CvaParams } from '../wire.js'

function legView(leg: SettlementLeg) {
  return {
    asset: describe(listed(leg.key), leg.testnet),
    amount_minor: minorJson(leg.amount),
    ...(leg.direction === 'TO_EXCHANGE' ? { fee_minor: leg.fee === undefined ? null : minorJson(leg.fee) } : {}),
    decimals: listed(leg.key).decimals,
    address: leg.address,
    memo: orNull(leg.memo),
    tx_state: leg.tx_state,
  }
}

/** Legs are listed by direction: `from_cva` the customer pays the exchange, `to_cva` the exchange pays the customer. */
export function planView(plan: SettlementPlan) {
  return {
    collateral_id: plan.collateral_id,
    revision: plan.revision,
    state: plan.state,
    settlement_id: orNull(plan.settlement_id),
    from_cva: plan.legs.filter((leg) => leg.direction === 'TO_EXCHANGE').map(legView),
    to_cva: plan.legs.filter((leg) => leg.direction === 'TO_CVA').map(legView),
    created_ms: plan.created_ms,
    updated_ms: plan.updated_ms,
  }
}

export function registerSettlementRoutes(app: FastifyInstance, state: State): void {
  const cva = '/internal/v1/users/:uid/accounts/:account_id/cva/:collateral_id'
  const linked = (params: CvaParams) => linkedCva(state, params.account_id, params.collateral_id)

  app.get<{ Params: CvaParams }>(`${cva}/settlement-plans/current`, async (request) => planView(currentPlan(state, linked(request.params).collateral_id)))

  app.get<{ Params: CvaParams & { revision: string } }>(`${cva}/settlement-plans/:revision`, async (request) => {
    const link = linked(request.params)
    const revision = Number(request.params.revision)
    const plan = Number.isInteger(revision) ? planRevision(state, link.collateral_id, revision) : undefined
    if (!plan) throw new LegacyError('SETTLEMENT_PLAN_NOT_FOUND', `no settlement plan revision ${request.params.revision}`)
    return planView(plan)
  })

  app.post<{ Params: CvaParams; Body: { settlement_id: string; revision: number } }>(
    `${cva}/settlements`,
    {
      schema: {
        body: { type: 'object', required: ['settlement_id', 'revision'], properties: { settlement_id: { type: 'string', minLength: 1 }, revision: { type: 'integer', minimum: 1 } } },
      },
    },
    async (request) => {
      const link = linked(request.params)
      const plan = currentPlan(state, link.collateral_id)
      if (request.body.revision !== plan.revision) {
        throw new LegacyError('SETTLEMENT_REVISION_STALE', `revision ${request.body.revision} is not current; the current revision is ${plan.revision}`, 'revision')
      }
      // Starting the current plan again (a retry) returns it as it stands.
      if (plan.state === 'OPEN') {
        plan.state = 'SETTLING'
        plan.settlement_id = request.body.settlement_id
        plan.updated_ms = state.now()
        for (const leg of plan.legs) leg.tx_state = 'PROCESSING'
      }
      return planView(plan)
    },
  )
}
