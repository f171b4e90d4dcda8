import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { openAccount } from '../access.js'
import { assetSpecSchema, describe, offeredAsset, type AssetSpec } from '../assets.js'
import { LegacyError } from '../errors.js'
import { callerOf } from '../http.js'
import { credit, debit } from '../ledger.js'
import { afterFee, checkNumberExact, convertMinor, divide, minorAsNumber, multiply, toMinor } from '../money.js'
import { page, pagingProperties, type PagingQuery } from '../paging.js'
import { listed } from '../state/catalog.js'
import type { State } from '../state/store.js'
import type { ConvertPair, Quote } from '../state/types.js'
import { decimalSchema, orNull, type AccountParams } from '../wire.js'
import { priceOf } from './prices.js'

/** Quotes are firm for a minute. */
export const QUOTE_TTL_MS = 60_000

interface QuoteBody {
  sell: AssetSpec
  buy: AssetSpec
  sell_amount?: string
  buy_amount?: string
}

function pairView(pair: ConvertPair) {
  return { pair_id: pair.pair_id, sell: describe(listed(pair.sell)), buy: describe(listed(pair.buy)), fee_bps: pair.fee_bps }
}

/** Quotes lapse lazily: an open quote read after its expiry is expired from then on. */
function refreshed(state: State, quote: Quote): Quote {
  if (quote.state === 'OPEN' && state.now() >= quote.expires_ms) quote.state = 'EXPIRED'
  return quote
}

function quoteView(quote: Quote) {
  const sell = listed(quote.sell)
  const buy = listed(quote.buy)
  return {
    quote_id: quote.quote_id,
    account_id: quote.account_id,
    pair_id: quote.pair_id,
    state: quote.state,
    sell: describe(sell),
    buy: describe(buy),
    sell_amount: minorAsNumber(quote.sell_amount, sell.decimals),
    buy_amount: minorAsNumber(quote.buy_amount, buy.decimals),
    fee_bps: quote.fee_bps,
    created_ms: quote.created_ms,
    expires_ms: quote.expires_ms,
    filled_ms: orNull(quote.filled_ms),
  }
}

/** Sell and buy amounts of a quote: the fee is kept from what is sold, the unknown side is rounded in the exchange's favour. */
function amountsFor(pair: ConvertPair, body: QuoteBody): { sell: bigint; buy: bigint } {
  const sell = listed(pair.sell)
  const buy = listed(pair.buy)
  const rate = multiply(priceOf(pair.sell, pair.buy), afterFee(pair.fee_bps))
  const field = body.sell_amount === undefined ? 'buy_amount' : 'sell_amount'
  let amounts: { sell: bigint; buy: bigint }
  if (body.sell_amount !== undefined) {
    const sold = toMinor(body.sell_amount, sell.decimals, field)
    amounts = { sell: sold, buy: convertMinor(sold, sell.decimals, buy.decimals, rate, 'down') }
  } else {
    const bought = toMinor(body.buy_amount as string, buy.decimals, field)
    amounts = { sell: convertMinor(bought, buy.decimals, sell.decimals, divide({ num: 1n, den: 1n }, rate), 'up'), buy: bought }
  }
  if (amounts.sell === 0n || amounts.buy === 0n) throw new LegacyError('AMOUNT_TOO_SMALL', 'the amount converts to nothing', field)
  checkNumberExact(amounts.sell, field)
  checkNumberExact(amounts.buy, field)
  return amounts
}

export function registerConvertRoutes(app: FastifyInstance, state: State): void {
  app.get('/internal/v1/convert/pairs', async () => ({ pairs: [...state.pairs.values()].map(pairView) }))

  const base = '/internal/v1/users/:uid/accounts/:account_id/convert/quotes'

  app.post<{ Params: AccountParams; Body: QuoteBody }>(
    base,
    {
      schema: {
        body: {
          type: 'object',
          required: ['sell', 'buy'],
          properties: { sell: assetSpecSchema, buy: assetSpecSchema, sell_amount: decimalSchema, buy_amount: decimalSchema },
        },
      },
    },
    async (request, reply) => {
      const account = openAccount(state, callerOf(request), request.params.account_id)
      const { body } = request
      if ((body.sell_amount === undefined) === (body.buy_amount === undefined)) {
        throw new LegacyError('INVALID_FIELD', 'give exactly one of sell_amount or buy_amount', 'sell_amount')
      }
      const sell = offeredAsset(body.sell, 'sell')
      const buy = offeredAsset(body.buy, 'buy')
      const pair = [...state.pairs.values()].find((p) => p.sell === sell?.key && p.buy === buy?.key)
      if (!pair) throw new LegacyError('PAIR_NOT_SUPPORTED', 'the convert desk does not quote that pair')
      const amounts = amountsFor(pair, body)
      const now = state.now()
      const quote: Quote = {
        quote_id: randomUUID(),
        account_id: account.account_id,
        pair_id: pair.pair_id,
        sell: pair.sell,
        buy: pair.buy,
        sell_amount: amounts.sell,
        buy_amount: amounts.buy,
        fee_bps: pair.fee_bps,
        state: 'OPEN',
        seq: state.seq(),
        created_ms: now,
        expires_ms: now + QUOTE_TTL_MS,
      }
      state.quotes.set(quote.quote_id, quote)
      return reply.code(201).send(quoteView(quote))
    },
  )

  app.get<{ Params: AccountParams; Querystring: PagingQuery }>(base, { schema: { querystring: { type: 'object', properties: pagingProperties } } }, async (request) => {
    const quotes = [...state.quotes.values()].filter((q) => q.account_id === request.params.account_id)
    return page(quotes, request.query, (quote) => quoteView(refreshed(state, quote)))
  })

  function ownQuote(params: AccountParams & { quote_id: string }): Quote {
    const quote = state.quotes.get(params.quote_id)
    if (quote?.account_id !== params.account_id) throw new LegacyError('QUOTE_NOT_FOUND', `no quote ${params.quote_id}`)
    return refreshed(state, quote)
  }

  app.get<{ Params: AccountParams & { quote_id: string } }>(`${base}/:quote_id`, async (request) => quoteView(ownQuote(request.params)))

  app.post<{ Params: AccountParams & { quote_id: string } }>(`${base}/:quote_id/accept`, async (request) => {
    const quote = ownQuote(request.params)
    if (quote.state === 'EXPIRED') throw new LegacyError('QUOTE_EXPIRED', `quote ${quote.quote_id} expired`)
    if (quote.state !== 'OPEN') throw new LegacyError('QUOTE_NOT_OPEN', `quote ${quote.quote_id} is ${quote.state}`)
    const account = openAccount(state, callerOf(request), request.params.account_id)
    debit(state, account.account_id, quote.sell, quote.sell_amount)
    credit(state, account.account_id, quote.buy, quote.buy_amount)
    quote.state = 'FILLED'
    quote.filled_ms = state.now()
    return quoteView(quote)
  })
}
