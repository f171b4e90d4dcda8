import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { openAccount, ownAccount } from '../access.js'
import { assetSpecSchema, describe, offeredAsset, type AssetSpec } from '../assets.js'
import { LegacyError } from '../errors.js'
import { callerOf } from '../http.js'
import { credit, debit, hold } from '../ledger.js'
import { formatMinor, minorJson, toMinor } from '../money.js'
import { page, pagingProperties, type PagingQuery } from '../paging.js'
import { listed } from '../state/catalog.js'
import type { State } from '../state/store.js'
import type { Account, Beneficiary, Payout, PayoutMethod, Rail } from '../state/types.js'
import { beneficiarySchema, decimalSchema, orNull, type AccountParams } from '../wire.js'
import { enabled } from './methods.js'

interface PayoutBody {
  amount: string
  debit: AssetSpec
  send: AssetSpec
  client_ref?: string
  reference?: string
}
interface CryptoBody extends PayoutBody {
  address: string
  memo?: string
  travel_rule?: object
}
interface BankBody extends PayoutBody {
  iban: string
  beneficiary: Beneficiary
}
interface TransferBody extends PayoutBody {
  to_account: string
}

function bodySchema(required: string[], properties: Record<string, unknown>) {
  return {
    type: 'object',
    required: ['amount', 'debit', 'send', ...required],
    properties: {
      amount: decimalSchema,
      debit: assetSpecSchema,
      send: assetSpecSchema,
      client_ref: { type: 'string' },
      reference: { type: 'string' },
      ...properties,
    },
  }
}

export function payoutView(payout: Payout) {
  const debitAsset = listed(payout.debit)
  const sendAsset = listed(payout.send)
  return {
    payout_id: payout.payout_id,
    account_id: payout.account_id,
    method_id: payout.method_id,
    rail: payout.rail,
    status: payout.status,
    debit: describe(debitAsset),
    amount_minor: minorJson(payout.amount),
    decimals: debitAsset.decimals,
    send: describe(sendAsset),
    send_amount_minor: minorJson(payout.send_amount),
    send_decimals: sendAsset.decimals,
    fee_minor: minorJson(payout.fee),
    ...(payout.rail === 'ONCHAIN' ? { address: orNull(payout.address), memo: orNull(payout.memo), tx_hash: orNull(payout.tx_hash) } : {}),
    ...(payout.rail === 'IBAN' ? { iban: orNull(payout.iban), beneficiary: orNull(payout.beneficiary) } : {}),
    ...(payout.rail === 'BOOK' || payout.rail === 'INTERNAL' ? { to_account: orNull(payout.to_account) } : {}),
    reference: orNull(payout.reference),
    client_ref: orNull(payout.client_ref),
    created_ms: payout.created_ms,
    updated_ms: payout.updated_ms,
    completed_ms: orNull(payout.completed_ms),
    history: payout.history,
  }
}

/** The account's method for this rail, debited wallet asset and sent asset. */
function methodFor(state: State, account: Account, rail: Rail, body: PayoutBody): PayoutMethod {
  const debitAsset = offeredAsset(body.debit, 'debit')
  const sendAsset = offeredAsset(body.send, 'send')
  const method = enabled(account, (a) => a.payout_methods, state.payoutMethods).find(
    (m) => m.rail === rail && m.debit === debitAsset?.key && m.send === sendAsset?.key,
  )
  if (!method) throw new LegacyError('METHOD_NOT_SUPPORTED', `account ${account.account_id} has no ${rail} payout for that asset pair`)
  return method
}

/** BOOK goes to another customer's open account, INTERNAL to another open account of the same customer (PARENT_ONLY: its parent). */
function checkDestination(state: State, account: Account, method: PayoutMethod, toAccountId: string): void {
  const to = state.accounts.get(toAccountId)
  const refuse = (why: string) => new LegacyError('DESTINATION_NOT_ALLOWED', why, 'to_account')
  if (!to || to.status !== 'OPEN') throw refuse(`account ${toAccountId} cannot receive transfers`)
  if (method.rail === 'BOOK') {
    if (to.user_id === account.user_id) throw refuse('book transfers go to other customers; use an internal transfer')
    return
  }
  if (to.user_id !== account.user_id || to.account_id === account.account_id) throw refuse('internal transfers go to another account of the same customer')
  if (method.scope === 'PARENT_ONLY' && to.account_id !== account.parent_account_id) throw refuse('this account may only transfer to its parent account')
}

export function registerPayoutRoutes(app: FastifyInstance, state: State): void {
  function create(caller: string, accountId: string, rail: Rail, body: PayoutBody, details: Partial<Payout>): Payout {
    const account = openAccount(state, caller, accountId)
    const method = methodFor(state, account, rail, body)
    const { decimals, ticker } = listed(method.debit)
    const amount = toMinor(body.amount, decimals, 'amount')
    if (amount < method.min) throw new LegacyError('AMOUNT_BELOW_MINIMUM', `minimum is ${formatMinor(method.min, decimals)} ${ticker}`, 'amount')
    if (details.to_account !== undefined) checkDestination(state, account, method, details.to_account)

    const now = state.now()
    // Every method sends the currency it debits; the fee comes out of the amount sent.
    const sendAmount = amount - method.fee
    const booked = rail === 'BOOK' || rail === 'INTERNAL'
    if (booked) {
      debit(state, account.account_id, method.debit, amount)
      credit(state, details.to_account as string, method.send, sendAmount)
    } else {
      hold(state, account.account_id, method.debit, amount)
    }
    const payout: Payout = {
      payout_id: randomUUID(),
      account_id: account.account_id,
      method_id: method.method_id,
      rail,
      debit: method.debit,
      amount,
      send: method.send,
      send_amount: sendAmount,
      fee: method.fee,
      status: booked ? 30 : 10,
      ...details,
      ...(body.reference === undefined ? {} : { reference: body.reference }),
      ...(body.client_ref === undefined ? {} : { client_ref: body.client_ref }),
      seq: state.seq(),
      created_ms: now,
      updated_ms: now,
      ...(booked ? { completed_ms: now } : {}),
      history: [{ status: booked ? 30 : 10, note: booked ? 'Booked' : 'Received, pending compliance review', at_ms: now }],
    }
    state.payouts.set(payout.payout_id, payout)
    if (booked) {
      // The receiving account sees the transfer as a deposit.
      const depositId = randomUUID()
      state.deposits.set(depositId, {
        deposit_id: depositId,
        account_id: details.to_account as string,
        rail,
        asset: method.send,
        credit: method.send,
        amount: sendAmount,
        status: 'CREDITED',
        from_account: account.account_id,
        ...(body.reference === undefined ? {} : { reference: body.reference }),
        seq: state.seq(),
        created_ms: now,
        settled_ms: now,
      })
    }
    return payout
  }

  const base = '/internal/v1/users/:uid/accounts/:account_id/payouts'

  app.post<{ Params: AccountParams; Body: CryptoBody }>(
    `${base}/crypto`,
    { schema: { body: bodySchema(['address'], { address: { type: 'string', minLength: 1 }, memo: { type: 'string' }, travel_rule: { type: 'object' } }) } },
    async (request, reply) => {
      const { address, memo, travel_rule } = request.body
      const details = { address, ...(memo === undefined ? {} : { memo }), ...(travel_rule === undefined ? {} : { travel_rule }) }
      return reply.code(201).send(payoutView(create(callerOf(request), request.params.account_id, 'ONCHAIN', request.body, details)))
    },
  )

  app.post<{ Params: AccountParams; Body: BankBody }>(
    `${base}/bank`,
    { schema: { body: bodySchema(['iban', 'beneficiary'], { iban: { type: 'string', pattern: '^[A-Z]{2}\\d{2}[A-Za-z0-9]{1,30}$' }, beneficiary: beneficiarySchema }) } },
    async (request, reply) => {
      const { iban, beneficiary } = request.body
      return reply.code(201).send(payoutView(create(callerOf(request), request.params.account_id, 'IBAN', request.body, { iban, beneficiary })))
    },
  )

  for (const [path, rail] of [
    ['book', 'BOOK'],
    ['internal', 'INTERNAL'],
  ] as const) {
    app.post<{ Params: AccountParams; Body: TransferBody }>(
      `${base}/${path}`,
      { schema: { body: bodySchema(['to_account'], { to_account: { type: 'string', minLength: 1 } }) } },
      async (request, reply) => reply.code(201).send(payoutView(create(callerOf(request), request.params.account_id, rail, request.body, { to_account: request.body.to_account }))),
    )
  }

  app.get<{ Params: AccountParams; Querystring: PagingQuery & { rail?: Rail } }>(
    base,
    { schema: { querystring: { type: 'object', properties: { ...pagingProperties, rail: { type: 'string', enum: ['ONCHAIN', 'IBAN', 'BOOK', 'INTERNAL'] } } } } },
    async (request) => {
      const { account_id } = request.params
      const { rail } = request.query
      const payouts = [...state.payouts.values()].filter((p) => p.account_id === account_id && (rail === undefined || p.rail === rail))
      return page(payouts, request.query, payoutView)
    },
  )

  app.get<{ Params: AccountParams & { payout_id: string } }>(`${base}/:payout_id`, async (request) => {
    ownAccount(state, callerOf(request), request.params.account_id)
    const payout = state.payouts.get(request.params.payout_id)
    if (payout?.account_id !== request.params.account_id) throw new LegacyError('PAYOUT_NOT_FOUND', `no payout ${request.params.payout_id}`)
    return payoutView(payout)
  })
}
