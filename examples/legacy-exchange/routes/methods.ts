import type { FastifyInstance } from 'fastify'
import { ownAccount } from '../access.js'
import { describe } from '../assets.js'
import { callerOf } from '../http.js'
import { minorJson } from '../money.js'
import { listed } from '../state/catalog.js'
import type { State } from '../state/store.js'
import type { Account, DepositMethod, PayoutMethod } from '../state/types.js'
import type { AccountParams } from '../wire.js'

export function payoutMethodView(method: PayoutMethod) {
  return {
    method_id: method.method_id,
    rail: method.rail,
    debit: describe(listed(method.debit)),
    send: describe(listed(method.send)),
    min_amount_minor: minorJson(method.min),
    fee_minor: minorJson(method.fee),
    decimals: listed(method.debit).decimals,
    ...(method.scope ? { scope: method.scope } : {}),
  }
}

function depositMethodView(method: DepositMethod) {
  return {
    method_id: method.method_id,
    rail: method.rail,
    asset: describe(listed(method.asset)),
    credit: describe(listed(method.credit)),
    self_service_addresses: method.self_service,
    ...(method.scope ? { scope: method.scope } : {}),
  }
}

/** The methods enabled for an account; a frozen account has none. */
export function enabled<T>(account: Account, ids: (a: Account) => string[], catalogue: Map<string, T>): T[] {
  if (account.status !== 'OPEN') return []
  return ids(account).map((id) => catalogue.get(id) as T)
}

export function registerMethodRoutes(app: FastifyInstance, state: State): void {
  app.get<{ Params: AccountParams }>('/internal/v1/users/:uid/accounts/:account_id/payout-methods', async (request) => {
    const account = ownAccount(state, callerOf(request), request.params.account_id)
    return { methods: enabled(account, (a) => a.payout_methods, state.payoutMethods).map(payoutMethodView) }
  })

  app.get<{ Params: AccountParams }>('/internal/v1/users/:uid/accounts/:account_id/deposit-methods', async (request) => {
    const account = ownAccount(state, callerOf(request), request.params.account_id)
    return { methods: enabled(account, (a) => a.deposit_methods, state.depositMethods).map(depositMethodView) }
  })
}
