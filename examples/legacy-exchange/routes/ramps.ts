import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { openAccount, ownAccount } from '../access.js'
import { assetSpecSchema, describe, offeredAsset, type AssetSpec } from '../assets.js'
import { LegacyError } from '../errors.js'
import { callerOf } from '../http.js'
import { hold } from '../ledger.js'
import { afterFee, checkNumberExact, convertMinor, formatMinor, minorAsNumber, multiply, toMinor } from '../money.js'
import { page, pagingProperties, type PagingQuery } from '../paging.js'
import { chainAddress } from '../state/addresses.js'
import { listed, networkOf } from '../state/catalog.js'
import { COLLECTION } from '../state/seed.js'
import type { State } from '../state/store.js'
import type { Account, Endpoint, Ramp, RampFee, RampKind, RampPricing, RampRoute } from '../state/types.js'
import { beneficiarySchema, decimalSchema, orNull, type AccountParams } from '../wire.js'
import { enabled } from './methods.js'
import { priceOf } from './prices.js'

interface RampBody {
  kind: RampKind
  amount: string
  source: { asset: AssetSpec; rail: string; from_account?: string; address?: string }
  target: Omit<Endpoint, 'rail' | 'reference'> & { asset: AssetSpec; rail: string }
  pricing?: RampPricing
  customer_ref?: string
  travel_rule?: object
}

/** The coordinates that matter for each rail; anything else on an endpoint is not shown. */
const ENDPOINT_FIELDS: Record<Endpoint['rail'], Exclude<keyof Endpoint, 'rail' | 'reference'>[]> = {
  ONCHAIN: ['address', 'memo'],
  IBAN: ['iban', 'bic', 'beneficiary'],
  SEPA: ['iban', 'bic', 'bank_name', 'beneficiary'],
  ACH: ['bank_name', 'routing_number', 'account_number', 'account_type', 'beneficiary'],
}

function endpointView(endpoint: Endpoint) {
  return Object.fromEntries([['rail', endpoint.rail], ...ENDPOINT_FIELDS[endpoint.rail].map((field) => [field, orNull(endpoint[field])])])
}

function feeView(fee: RampFee) {
  const value = fee.basis === 'BPS' ? (fee.bps as number) : minorAsNumber(fee.flat as bigint, listed(fee.key).decimals)
  return { kind: fee.kind, asset: describe(listed(fee.key)), basis: fee.basis, value }
}

function routeView(route: RampRoute) {
  const source = listed(route.source.key)
  const target = listed(route.target.key)
  return {
    route_id: route.route_id,
    kind: route.kind,
    source: { asset: describe(source), rail: route.source.rail },
    target: { asset: describe(target), rail: route.target.rail },
    min_amount: minorAsNumber(route.min_amount, source.decimals),
    fee_bps: route.fee_bps,
    network_fee: route.network_fee === undefined ? null : minorAsNumber(route.network_fee, target.decimals),
    ttl_s: route.ttl_s,
  }
}

export function rampView(ramp: Ramp) {
  const source = listed(ramp.source.key)
  const target = listed(ramp.target.key)
  const { settlement } = ramp
  return {
    ramp_id: ramp.ramp_id,
    account_id: ramp.account_id,
    route_id: ramp.route_id,
    kind: ramp.kind,
    funding: ramp.funding,
    state: ramp.state,
    amount: minorAsNumber(ramp.amount, source.decimals),
    source: { asset: describe(source), rail: ramp.source.rail, from_account: orNull(ramp.source.from_account), address: orNull(ramp.source.address) },
    target: { asset: describe(target), ...endpointView(ramp.target) },
    pay_in: ramp.pay_in ? { ...endpointView(ramp.pay_in), reference: orNull(ramp.pay_in.reference) } : null,
    fees_est: ramp.fees_est.map(feeView),
    pricing: orNull(ramp.pricing),
    customer_ref: orNull(ramp.customer_ref),
    received: ramp.received ? { amount: minorAsNumber(ramp.received.amount, source.decimals), tx_hash: orNull(ramp.received.tx_hash) } : null,
    settlement: settlement
      ? {
          payout: {
            amount: minorAsNumber(settlement.payout.amount, target.decimals),
            tx_hash: orNull(settlement.payout.tx_hash),
            reference: orNull(settlement.payout.reference),
          },
          fees: settlement.fees.map(feeView),
        }
      : null,
    created_ms: ramp.created_ms,
    updated_ms: ramp.updated_ms,
    expires_ms: ramp.expires_ms,
  }
}

/** Ramps waiting for the customer's funds lapse lazily once their expiry has passed. */
export function refreshed(state: State, ramp: Ramp): Ramp {
  if (ramp.state === 'AWAITING_FUNDS' && state.now() >= ramp.expires_ms) {
    ramp.state = 'EXPIRED'
    ramp.updated_ms = ramp.expires_ms
  }
  return ramp
}

/** The account whose wallet funds a prefunded ramp. */
export const fundingAccount = (ramp: Ramp): string => ramp.source.from_account ?? ramp.account_id

/** What the customer receives: the amount less the trading fee, at the reference price, less the network fee. */
export function deliveredAmount(state: State, ramp: Ramp): bigint {
  const route = state.rampRoutes.get(ramp.route_id) as RampRoute
  const source = listed(ramp.source.key)
  const target = listed(ramp.target.key)
  const gross = convertMinor(ramp.amount, source.decimals, target.decimals, multiply(priceOf(ramp.source.key, ramp.target.key), afterFee(route.fee_bps)), 'down')
  const net = gross - (route.network_fee ?? 0n)
  return net > 0n ? net : 0n
}

/** The fees actually charged once a ramp is done. */
export function actualFees(state: State, ramp: Ramp): RampFee[] {
  const route = state.rampRoutes.get(ramp.route_id) as RampRoute
  const trading = (ramp.amount * BigInt(route.fee_bps) + 9_999n) / 10_000n
  return [
    { kind: 'TRADING', key: ramp.source.key, basis: 'FLAT', flat: trading },
    ...(route.network_fee === undefined ? [] : [{ kind: 'NETWORK' as const, key: ramp.target.key, basis: 'FLAT' as const, flat: route.network_fee }]),
  ]
}

/** Where the customer pays in: the exchange's collection account for the rail, or a fresh deposit address. */
function payInFor(route: RampRoute, rampId: string): Endpoint | undefined {
  const reference = `RMP-${rampId.slice(0, 8).toUpperCase()}`
  switch (route.source.rail) {
    case 'BALANCE':
      return undefined
    case 'ONCHAIN':
      return { rail: 'ONCHAIN', ...chainAddress(networkOf(route.source.key), rampId) }
    case 'ACH':
      return { ...COLLECTION.usdAch, reference }
    case 'IBAN':
    case 'SEPA':
      return { ...COLLECTION.eurIban, rail: route.source.rail, reference }
  }
}

const DIGITS_9 = /^\d{9}$/
const DIGITS_4_17 = /^\d{4,17}$/
const IBAN = /^[A-Z]{2}\d{2}[A-Za-z0-9]{1,30}$/

/** The delivery coordinates each target rail needs. */
function checkTarget(target: RampBody['target'], rail: Endpoint['rail']): void {
  const need = (field: keyof RampBody['target'], test?: RegExp) => {
    const value = target[field]
    if (value === undefined) throw new LegacyError('MISSING_FIELD', `target.${field} is required for ${rail}`, `target.${field}`)
    if (test && !(typeof value === 'string' && test.test(value))) throw new LegacyError('INVALID_FIELD', `target.${field} is not valid`, `target.${field}`)
  }
  if (rail === 'ONCHAIN') return need('address')
  need('beneficiary')
  if (rail === 'ACH') {
    need('routing_number', DIGITS_9)
    need('account_number', DIGITS_4_17)
    need('account_type')
  } else {
    need('iban', IBAN)
  }
}

/** The route this request asks for, checking source, then target, then the pair of rails. */
function routeFor(state: State, account: Account, body: RampBody): RampRoute {
  const source = offeredAsset(body.source.asset, 'source.asset')
  const target = offeredAsset(body.target.asset, 'target.asset')
  const routes = enabled(account, (a) => a.ramp_routes, state.rampRoutes)
  if (!routes.some((r) => r.source.key === source?.key)) throw new LegacyError('SOURCE_ASSET_NOT_SUPPORTED', 'the ramp desk does not take that asset', 'source.asset')
  if (!routes.some((r) => r.target.key === target?.key)) throw new LegacyError('TARGET_ASSET_NOT_SUPPORTED', 'the ramp desk does not deliver that asset', 'target.asset')
  const route = routes.find(
    (r) =>
      r.kind === body.kind &&
      r.source.key === source?.key &&
      r.source.rail === body.source.rail &&
      r.target.key === target?.key &&
      r.target.rail === body.target.rail,
  )
  if (!route) throw new LegacyError('ROUTE_NOT_SUPPORTED', `no ${body.kind} route from ${body.source.rail} to ${body.target.rail} for those assets`)
  return route
}

const rampBodySchema = {
  type: 'object',
  required: ['kind', 'amount', 'source', 'target'],
  properties: {
    kind: { type: 'string', enum: ['BUY', 'SELL', 'BRIDGE'] },
    amount: decimalSchema,
    source: {
      type: 'object',
      required: ['asset', 'rail'],
      properties: { asset: assetSpecSchema, rail: { type: 'string', minLength: 1 }, from_account: { type: 'string', minLength: 1 }, address: { type: 'string' } },
    },
    target: {
      type: 'object',
      required: ['asset', 'rail'],
      properties: {
        asset: assetSpecSchema,
        rail: { type: 'string', minLength: 1 },
        address: { type: 'string', minLength: 1 },
        memo: { type: 'string' },
        iban: { type: 'string' },
        bic: { type: 'string' },
        bank_name: { type: 'string' },
        routing_number: { type: 'string' },
        account_number: { type: 'string' },
        account_type: { type: 'string', enum: ['CHECKING', 'SAVINGS'] },
        beneficiary: beneficiarySchema,
      },
    },
    pricing: {
      type: 'object',
      required: ['mode', 'quote_ref'],
      properties: {
        mode: { type: 'string', enum: ['QUOTE'] },
        quote_ref: { type: 'string', minLength: 1 },
        requote: {
          type: 'object',
          required: ['mode'],
          properties: { mode: { type: 'string', enum: ['RETRY', 'MARKET'] }, slippage_bps: { type: 'number', minimum: 0 }, max_attempts: { type: 'integer', minimum: 0 } },
        },
      },
    },
    customer_ref: { type: 'string' },
    travel_rule: { type: 'object' },
  },
} as const

export function registerRampRoutes(app: FastifyInstance, state: State): void {
  const base = '/internal/v1/users/:uid/accounts/:account_id'

  app.get<{ Params: AccountParams }>(`${base}/ramp-routes`, async (request) => {
    const account = ownAccount(state, callerOf(request), request.params.account_id)
    return { routes: enabled(account, (a) => a.ramp_routes, state.rampRoutes).map(routeView) }
  })

  app.post<{ Params: AccountParams; Body: RampBody }>(`${base}/ramps`, { schema: { body: rampBodySchema } }, async (request, reply) => {
    const account = openAccount(state, callerOf(request), request.params.account_id)
    const { body } = request
    const route = routeFor(state, account, body)
    const source = listed(route.source.key)
    const amount = toMinor(body.amount, source.decimals, 'amount')
    if (amount < route.min_amount) throw new LegacyError('AMOUNT_BELOW_MINIMUM', `minimum is ${formatMinor(route.min_amount, source.decimals)} ${source.ticker}`, 'amount')
    checkNumberExact(amount, 'amount')
    checkTarget(body.target, route.target.rail)

    const rampId = randomUUID()
    if (route.source.rail === 'BALANCE') {
      const from = body.source.from_account ?? account.account_id
      const funder = state.accounts.get(from)
      if (funder?.user_id !== account.user_id || funder.status !== 'OPEN') {
        throw new LegacyError('FUNDING_ACCOUNT_NOT_ALLOWED', `account ${from} cannot fund this ramp`, 'source.from_account')
      }
      hold(state, from, route.source.key, amount)
    }
    const now = state.now()
    const coordinates = Object.fromEntries(ENDPOINT_FIELDS[route.target.rail].flatMap((field) => (body.target[field] === undefined ? [] : [[field, body.target[field]]])))
    const payIn = payInFor(route, rampId)
    const ramp: Ramp = {
      ramp_id: rampId,
      account_id: account.account_id,
      route_id: route.route_id,
      kind: route.kind,
      funding: route.source.rail === 'BALANCE' ? 'BALANCE' : 'PAYIN',
      amount,
      source: {
        key: route.source.key,
        rail: route.source.rail,
        ...(body.source.from_account === undefined ? {} : { from_account: body.source.from_account }),
        ...(body.source.address === undefined ? {} : { address: body.source.address }),
      },
      target: { key: route.target.key, rail: route.target.rail, ...coordinates },
      ...(payIn ? { pay_in: payIn } : {}),
      fees_est: [
        { kind: 'TRADING', key: route.source.key, basis: 'BPS', bps: route.fee_bps },
        ...(route.network_fee === undefined ? [] : [{ kind: 'NETWORK' as const, key: route.target.key, basis: 'FLAT' as const, flat: route.network_fee }]),
      ],
      ...(body.pricing ? { pricing: body.pricing } : {}),
      ...(body.customer_ref === undefined ? {} : { customer_ref: body.customer_ref }),
      ...(body.travel_rule === undefined ? {} : { travel_rule: body.travel_rule }),
      state: route.source.rail === 'BALANCE' ? 'IN_PROGRESS' : 'AWAITING_FUNDS',
      seq: state.seq(),
      created_ms: now,
      updated_ms: now,
      expires_ms: now + route.ttl_s * 1000,
    }
    state.ramps.set(rampId, ramp)
    return reply.code(201).send(rampView(ramp))
  })

  app.get<{ Params: AccountParams; Querystring: PagingQuery }>(`${base}/ramps`, { schema: { querystring: { type: 'object', properties: pagingProperties } } }, async (request) => {
    const ramps = [...state.ramps.values()].filter((r) => r.account_id === request.params.account_id)
    return page(ramps, request.query, (ramp) => rampView(refreshed(state, ramp)))
  })

  app.get<{ Params: AccountParams & { ramp_id: string } }>(`${base}/ramps/:ramp_id`, async (request) => {
    const ramp = state.ramps.get(request.params.ramp_id)
    if (ramp?.account_id !== request.params.account_id) throw new LegacyError('RAMP_NOT_FOUND', `no ramp ${request.params.ramp_id}`)
    return rampView(refreshed(state, ramp))
  })
}
