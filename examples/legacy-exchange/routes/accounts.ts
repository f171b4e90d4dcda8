import type { FastifyInstance } from 'fastify'
import { ownAccount } from '../access.js'
import { assetFilter, assetFilterProperties, describe, type AssetFilter } from '../assets.js'
import { creditLine } from '../collateral.js'
import { callerOf } from '../http.js'
import { minorJson } from '../money.js'
import { listed } from '../state/catalog.js'
import type { State } from '../state/store.js'
import type { Account, Wallet } from '../state/types.js'
import type { AccountParams } from '../wire.js'

export function walletView(state: State, wallet: Wallet) {
  const credit = creditLine(state, wallet.account_id, wallet.key)
  return {
    wallet_id: wallet.wallet_id,
    asset: describe(listed(wallet.key)),
    available_minor: minorJson(wallet.available),
    held_minor: minorJson(wallet.held),
    ...(credit === undefined ? {} : { credit_minor: minorJson(credit) }),
    decimals: listed(wallet.key).decimals,
  }
}

function walletsOf(state: State, accountId: string): Wallet[] {
  return [...state.wallets.values()].filter((wallet) => wallet.account_id === accountId)
}

function accountView(account: Account) {
  return {
    account_id: account.account_id,
    parent_account_id: account.parent_account_id,
    kind: account.parent_account_id === null ? 'MAIN' : 'SUB',
    label: account.label,
    notes: account.notes,
    status: account.status,
    created_ms: account.created_ms,
  }
}

export function registerAccountRoutes(app: FastifyInstance, state: State): void {
  app.get<{ Params: { uid: string }; Querystring: { include?: 'wallets' } }>(
    '/internal/v1/users/:uid/accounts',
    { schema: { querystring: { type: 'object', properties: { include: { type: 'string', enum: ['wallets'] } } } } },
    async (request) => {
      const caller = callerOf(request)
      const accounts = [...state.accounts.values()].filter((account) => account.user_id === caller)
      return {
        accounts: accounts.map((account) => ({
          ...accountView(account),
          ...(request.query.include === 'wallets' ? { wallets: walletsOf(state, account.account_id).map((w) => walletView(state, w)) } : {}),
        })),
      }
    },
  )

  app.get<{ Params: AccountParams }>('/internal/v1/users/:uid/accounts/:account_id', async (request) =>
    accountView(ownAccount(state, callerOf(request), request.params.account_id)),
  )

  app.get<{ Params: AccountParams; Querystring: AssetFilter }>(
    '/internal/v1/users/:uid/accounts/:account_id/wallets',
    {
      schema: {
        querystring: { type: 'object', properties: assetFilterProperties },
      },
    },
    async (request) => {
      const matches = assetFilter(request.query)
      const wallets = walletsOf(state, request.params.account_id).filter((wallet) => matches(wallet.key))
      return { account_id: request.params.account_id, wallets: wallets.map((wallet) => walletView(state, wallet)) }
    },
  )
}
