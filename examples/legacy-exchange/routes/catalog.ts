import type { FastifyInstance } from 'fastify'
import { LegacyError } from '../errors.js'
import { catalog, listedTokens, type Listed } from '../state/catalog.js'
import { orNull } from '../wire.js'

/** The token catalogue (fiat and coins need no listing: they are named by ticker). */
function tokenView(entry: Listed) {
  const token = entry.token as NonNullable<Listed['token']>
  return {
    token_id: entry.key,
    ticker: entry.ticker,
    name: token.name,
    description: token.description,
    standard: token.standard,
    network: entry.network,
    contract: orNull(token.contract),
    issuer: orNull(token.issuer),
    asset_code: orNull(token.assetCode),
    decimals: entry.decimals,
  }
}

export function registerCatalogRoutes(app: FastifyInstance): void {
  app.get('/internal/v1/tokens', async () => ({ tokens: listedTokens.map(tokenView) }))

  app.get<{ Params: { token_id: string } }>('/internal/v1/tokens/:token_id', async (request) => {
    const entry = catalog.get(request.params.token_id)
    if (entry?.type !== 'TOKEN') throw new LegacyError('TOKEN_NOT_FOUND', `no token ${request.params.token_id}`)
    return tokenView(entry)
  })
}
