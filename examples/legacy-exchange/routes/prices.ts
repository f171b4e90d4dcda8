import type { FastifyInstance } from 'fastify'
import { ownAccount } from '../access.js'
import { describe } from '../assets.js'
import { LegacyError } from '../errors.js'
import { callerOf } from '../http.js'
import { divide, ratio, ratioAsNumber, type Ratio } from '../money.js'
import { listed } from '../state/catalog.js'
import type { State } from '../state/store.js'

type Desk = 'CONVERT' | 'RAMP' | 'BOOK'

const PAIR_PARAMS = { conversion_pair: 'CONVERT', ramp_pair: 'RAMP', book_pair: 'BOOK' } as const
type PriceQuery = Partial<Record<keyof typeof PAIR_PARAMS, string>>

/** What the desk quotes when it does not recognise the pair reference: its benchmark, flagged indicative. */
const BENCHMARK: Record<Desk, [string, string]> = { CONVERT: ['BTC', 'USD'], RAMP: ['EUR', 'USD'], BOOK: ['BTC', 'USD'] }

/** Reference price of one unit of `base` in `quote`. */
export function priceOf(base: string, quote: string): Ratio {
  return divide(ratio(listed(base).usdPrice), ratio(listed(quote).usdPrice))
}

function pairOf(state: State, accountId: string, desk: Desk, ref: string): [string, string] | undefined {
  if (desk === 'CONVERT') {
    const pair = state.pairs.get(ref)
    return pair && [pair.sell, pair.buy]
  }
  if (desk === 'BOOK') {
    const book = state.books.get(ref)
    return book && [book.base, book.quote]
  }
  const route = state.accounts.get(accountId)?.ramp_routes.includes(ref) ? state.rampRoutes.get(ref) : undefined
  return route && [route.source.key, route.target.key]
}

export function registerPriceRoutes(app: FastifyInstance, state: State): void {
  app.get<{ Params: { uid: string; account_id: string }; Querystring: PriceQuery }>(
    '/internal/v1/users/:uid/accounts/:account_id/prices',
    {
      schema: {
        querystring: { type: 'object', properties: { conversion_pair: { type: 'string' }, ramp_pair: { type: 'string' }, book_pair: { type: 'string' } } },
      },
    },
    async (request) => {
      const account = ownAccount(state, callerOf(request), request.params.account_id)
      // Callers may send the unused references empty; exactly one must be non-empty.
      const given = (Object.keys(PAIR_PARAMS) as (keyof typeof PAIR_PARAMS)[]).filter((name) => request.query[name])
      if (given.length === 0) throw new LegacyError('MISSING_FIELD', 'give one of conversion_pair, ramp_pair or book_pair', 'conversion_pair')
      if (given.length > 1) throw new LegacyError('INVALID_QUERY', `use only one of ${given.join(', ')}`, given[1])
      const param = given[0] as keyof typeof PAIR_PARAMS
      const desk = PAIR_PARAMS[param]
      const ref = request.query[param] as string
      const pair = pairOf(state, account.account_id, desk, ref)
      const [base, quote] = pair ?? BENCHMARK[desk]
      return {
        pair_ref: ref,
        desk,
        price: ratioAsNumber(priceOf(base, quote), 8),
        base: pair ? describe(listed(base)) : null,
        quote: pair ? describe(listed(quote)) : null,
        indicative: pair === undefined,
        as_of_ms: state.now(),
      }
    },
  )
}
