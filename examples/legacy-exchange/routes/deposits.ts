import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { openAccount } from '../access.js'
import { assetSpecSchema, describe, offeredAsset, type AssetSpec } from '../assets.js'
import { LegacyError } from '../errors.js'
import { callerOf } from '../http.js'
import { minorJson } from '../money.js'
import { page, pagingProperties, type PagingQuery } from '../paging.js'
import { chainAddress, PARTNER_BIC, virtualIban } from '../state/addresses.js'
import { listed, networkOf } from '../state/catalog.js'
import { holderOf, type State } from '../state/store.js'
import type { Deposit, DepositAddress, User } from '../state/types.js'
import { orNull, type AccountParams } from '../wire.js'
import { enabled } from './methods.js'

export function depositView(deposit: Deposit) {
  const creditAsset = listed(deposit.credit)
  return {
    deposit_id: deposit.deposit_id,
    account_id: deposit.account_id,
    rail: deposit.rail,
    status: deposit.status,
    asset: describe(listed(deposit.asset)),
    credit: describe(creditAsset),
    amount_minor: minorJson(deposit.amount),
    decimals: creditAsset.decimals,
    deposit_address_id: orNull(deposit.deposit_address_id),
    ...(deposit.rail === 'ONCHAIN'
      ? { tx_hash: orNull(deposit.tx_hash), from_address: orNull(deposit.from_address), to_address: orNull(deposit.to_address), memo: orNull(deposit.memo) }
      : {}),
    ...(deposit.rail === 'IBAN' ? { payer_name: orNull(deposit.payer_name), payer_iban: orNull(deposit.payer_iban) } : {}),
    ...(deposit.rail === 'BOOK' || deposit.rail === 'INTERNAL' ? { from_account: orNull(deposit.from_account) } : {}),
    reference: orNull(deposit.reference),
    created_ms: deposit.created_ms,
    settled_ms: orNull(deposit.settled_ms),
  }
}

function addressView(record: DepositAddress) {
  return {
    address_id: record.address_id,
    account_id: record.account_id,
    rail: record.rail,
    asset: describe(listed(record.asset)),
    state: record.state,
    ...(record.rail === 'ONCHAIN' ? { address: orNull(record.address), memo: orNull(record.memo) } : {}),
    ...(record.rail === 'IBAN' ? { iban: orNull(record.iban), bic: orNull(record.bic), holder: orNull(record.holder) } : {}),
    created_ms: record.created_ms,
    disabled_ms: orNull(record.disabled_ms),
  }
}

export function registerDepositRoutes(app: FastifyInstance, state: State): void {
  const base = '/internal/v1/users/:uid/accounts/:account_id'

  app.get<{ Params: AccountParams; Querystring: PagingQuery }>(
    `${base}/deposits`,
    { schema: { querystring: { type: 'object', properties: pagingProperties } } },
    async (request) => {
      const deposits = [...state.deposits.values()].filter((d) => d.account_id === request.params.account_id)
      return page(deposits, request.query, depositView)
    },
  )

  app.get<{ Params: AccountParams & { deposit_id: string } }>(`${base}/deposits/:deposit_id`, async (request) => {
    const deposit = state.deposits.get(request.params.deposit_id)
    if (deposit?.account_id !== request.params.account_id) throw new LegacyError('DEPOSIT_NOT_FOUND', `no deposit ${request.params.deposit_id}`)
    return depositView(deposit)
  })

  app.post<{ Params: AccountParams; Body: { rail: 'ONCHAIN' | 'IBAN'; asset: AssetSpec } }>(
    `${base}/deposit-addresses`,
    {
      schema: {
        body: { type: 'object', required: ['rail', 'asset'], properties: { rail: { type: 'string', enum: ['ONCHAIN', 'IBAN'] }, asset: assetSpecSchema } },
      },
    },
    async (request, reply) => {
      const account = openAccount(state, callerOf(request), request.params.account_id)
      const { rail } = request.body
      const asset = offeredAsset(request.body.asset, 'asset')
      const method = enabled(account, (a) => a.deposit_methods, state.depositMethods).find((m) => m.rail === rail && m.asset === asset?.key)
      if (!method) throw new LegacyError('METHOD_NOT_SUPPORTED', `account ${account.account_id} takes no ${rail} deposits of that asset`)
      if (!method.self_service) throw new LegacyError('ADDRESS_CREATION_NOT_ALLOWED', 'deposits of this asset use the exchange-assigned coordinates')
      const addressId = randomUUID()
      const coordinates =
        rail === 'ONCHAIN'
          ? chainAddress(networkOf(method.asset), addressId)
          : { iban: virtualIban(addressId), bic: PARTNER_BIC, holder: holderOf(state.users.get(account.user_id) as User) }
      const record: DepositAddress = {
        address_id: addressId,
        account_id: account.account_id,
        rail,
        asset: method.asset,
        state: 'ACTIVE',
        ...coordinates,
        seq: state.seq(),
        created_ms: state.now(),
      }
      state.depositAddresses.set(addressId, record)
      return reply.code(201).send(addressView(record))
    },
  )

  app.get<{ Params: AccountParams; Querystring: PagingQuery & { rail?: 'ONCHAIN' | 'IBAN' } }>(
    `${base}/deposit-addresses`,
    { schema: { querystring: { type: 'object', properties: { ...pagingProperties, rail: { type: 'string', enum: ['ONCHAIN', 'IBAN'] } } } } },
    async (request) => {
      const { rail } = request.query
      const records = [...state.depositAddresses.values()].filter((a) => a.account_id === request.params.account_id && (rail === undefined || a.rail === rail))
      return page(records, request.query, addressView)
    },
  )

  function ownAddress(params: AccountParams & { address_id: string }): DepositAddress {
    const record = state.depositAddresses.get(params.address_id)
    if (record?.account_id !== params.account_id) throw new LegacyError('ADDRESS_NOT_FOUND', `no deposit address ${params.address_id}`)
    return record
  }

  app.get<{ Params: AccountParams & { address_id: string } }>(`${base}/deposit-addresses/:address_id`, async (request) => addressView(ownAddress(request.params)))

  app.post<{ Params: AccountParams & { address_id: string } }>(`${base}/deposit-addresses/:address_id/disable`, async (request) => {
    const record = ownAddress(request.params)
    if (record.state === 'DISABLED') throw new LegacyError('ADDRESS_ALREADY_DISABLED', `deposit address ${record.address_id} is already disabled`)
    record.state = 'DISABLED'
    record.disabled_ms = state.now()
    return addressView(record)
  })
}
