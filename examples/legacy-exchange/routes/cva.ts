import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { ownAccount } from '../access.js'
import { assetFilter, assetSpecSchema, describe, lookupAsset, type AssetFilter, type AssetSpec } from '../assets.js'
import { adjustHolding, activeLink, currentPlan, holding, linkedCva } from '../collateral.js'
import { LegacyError } from '../errors.js'
import { callerOf } from '../http.js'
import { formatMinor, minorJson, toMinor } from '../money.js'
import { page, pagingProperties, type PagingQuery } from '../paging.js'
import { listed, type Listed } from '../state/catalog.js'
import type { State } from '../state/store.js'
import type { CvaAddress, CvaIntent, CvaLink, CvaTx, Environment } from '../state/types.js'
import { decimalSchema, orNull, type AccountParams, type CvaParams } from '../wire.js'

/**
 * Off-exchange collateral as Fireblocks drives it: link a main account to a collateral vault
 * account (CVA), register the CVA's addresses, pre-approve ("intents") and then record
 * collateral moving into and out of the CVA.
 */

const COLLATERAL_ID = /^[0-9a-f-]{36}\.[0-9a-f-]{36}\.[0-9a-f-]{36}$/i

function linkView(state: State, link: CvaLink) {
  return {
    link_id: link.link_id,
    account_id: link.account_id,
    collateral_id: link.collateral_id,
    signer_ids: link.signer_ids,
    environment: link.environment,
    state: link.state,
    reason: orNull(link.reason),
    eligible_assets: [...state.cva.eligible.keys()].map((key) => describe(listed(key))),
    created_ms: link.created_ms,
  }
}

function addressView(record: CvaAddress) {
  return {
    address_id: record.address_id,
    collateral_id: record.collateral_id,
    asset: describe(listed(record.key), record.testnet),
    address: record.address,
    memo: orNull(record.memo),
    recovery_ref: record.recovery_ref,
    created_ms: record.created_ms,
  }
}

function intentView(intent: CvaIntent) {
  return {
    intent_id: intent.intent_id,
    collateral_id: intent.collateral_id,
    direction: intent.direction,
    decision: intent.decision,
    reason: orNull(intent.reason),
    asset: describe(listed(intent.key), intent.testnet),
    amount_minor: minorJson(intent.amount),
    decimals: listed(intent.key).decimals,
    ...(intent.direction === 'WITHDRAWAL' ? { address: orNull(intent.address), memo: orNull(intent.memo) } : {}),
    fb_intent_id: intent.fb_intent_id,
    created_ms: intent.created_ms,
  }
}

export function cvaTxView(state: State, tx: CvaTx) {
  const intent = state.cva.intents.get(tx.intent_id) as CvaIntent
  return {
    tx_id: tx.tx_id,
    collateral_id: tx.collateral_id,
    direction: tx.direction,
    fb_tx_id: tx.fb_tx_id,
    intent_id: tx.intent_id,
    fb_intent_id: tx.fb_intent_id,
    status: tx.status,
    reason: orNull(tx.reason),
    asset: describe(listed(intent.key), intent.testnet),
    amount_minor: minorJson(intent.amount),
    decimals: listed(intent.key).decimals,
    settlement: orNull(tx.settlement),
    created_ms: tx.created_ms,
    updated_ms: tx.updated_ms,
  }
}

/** Why a link request cannot be honoured, if it cannot: malformed collateral id, or a signer the exchange has not paired. */
function linkProblem(state: State, collateralId: string, signerIds: string[]): string | undefined {
  if (!COLLATERAL_ID.test(collateralId)) return `collateral id ${collateralId} is not <cvaTenantId>.<accountId>.<tenantId>`
  if (signerIds.length === 0) return 'at least one collateral signer is required'
  const unknown = signerIds.filter((id) => !state.cva.signers.has(id))
  if (unknown.length > 0) return `collateral signer ${unknown.join(', ')} is not registered with the exchange`
  return undefined
}

/** Collateral must be an on-chain asset the exchange lists; a listed asset outside the collateral policy is declined, not refused. */
function collateralAsset(spec: AssetSpec): Listed {
  const entry = lookupAsset(spec, 'asset')
  if (!entry || entry.type === 'FIAT') throw new LegacyError('ASSET_NOT_SUPPORTED', 'not an asset the exchange holds as collateral', 'asset')
  return entry
}

function declineReason(state: State, link: CvaLink, entry: Listed, testnet: boolean | undefined): string | undefined {
  if (!state.cva.eligible.has(entry.key)) return `${entry.ticker} is not eligible as collateral`
  if (testnet === true && link.environment === 'PROD') return 'test assets are not accepted on a production link'
  return undefined
}

export function registerCvaRoutes(app: FastifyInstance, state: State): void {
  const account = '/internal/v1/users/:uid/accounts/:account_id/cva'
  const cva = `${account}/:collateral_id`
  const linked = (request: { params: CvaParams }) => linkedCva(state, request.params.account_id, request.params.collateral_id)

  app.get<{ Params: AccountParams }>(`${account}/links`, async (request) => {
    const links = [...state.cva.links.values()].filter((link) => link.account_id === request.params.account_id)
    return { links: links.map((link) => linkView(state, link)) }
  })

  app.post<{ Params: AccountParams; Body: { collateral_id: string; signer_ids: string[]; environment: Environment } }>(
    `${account}/links`,
    {
      schema: {
        body: {
          type: 'object',
          required: ['collateral_id', 'signer_ids', 'environment'],
          properties: {
            collateral_id: { type: 'string', minLength: 1 },
            signer_ids: { type: 'array', items: { type: 'string' } },
            environment: { type: 'string', enum: ['PROD', 'SANDBOX', 'STAGE'] },
          },
        },
      },
    },
    async (request, reply) => {
      const owner = ownAccount(state, callerOf(request), request.params.account_id)
      if (owner.parent_account_id !== null) throw new LegacyError('NOT_MAIN_ACCOUNT', 'only main accounts take collateral')
      const { collateral_id, signer_ids, environment } = request.body
      const problem = linkProblem(state, collateral_id, signer_ids)
      // A valid request for an account that is already linked (e.g. after an API key change) gets the existing link back.
      const existing = problem === undefined ? activeLink(state, owner.account_id) : undefined
      if (existing) return reply.code(200).send(linkView(state, existing))
      const link: CvaLink = {
        link_id: randomUUID(),
        account_id: owner.account_id,
        collateral_id,
        signer_ids,
        environment,
        state: problem === undefined ? 'ACTIVE' : 'FAILED',
        ...(problem === undefined ? {} : { reason: problem }),
        seq: state.seq(),
        created_ms: state.now(),
      }
      // Failed attempts are kept, as the link history Fireblocks is shown.
      state.cva.links.set(link.link_id, link)
      return reply.code(201).send(linkView(state, link))
    },
  )

  app.post<{ Params: CvaParams; Body: { asset: AssetSpec; address: string; memo?: string; recovery_ref: string } }>(
    `${cva}/addresses`,
    {
      schema: {
        body: {
          type: 'object',
          required: ['asset', 'address', 'recovery_ref'],
          properties: { asset: assetSpecSchema, address: { type: 'string', minLength: 1 }, memo: { type: 'string' }, recovery_ref: { type: 'string', minLength: 1 } },
        },
      },
    },
    async (request, reply) => {
      const link = linked(request)
      const { asset, address, memo, recovery_ref } = request.body
      const entry = collateralAsset(asset)
      // Fireblocks registers every address it deposits to; only new ones are added.
      const known = [...state.cva.addresses.values()].find(
        (a) => a.collateral_id === link.collateral_id && a.key === entry.key && a.address === address && a.memo === memo,
      )
      if (known) return reply.code(200).send(addressView(known))
      const record: CvaAddress = {
        address_id: randomUUID(),
        collateral_id: link.collateral_id,
        key: entry.key,
        ...(asset.testnet === undefined ? {} : { testnet: asset.testnet }),
        address,
        ...(memo === undefined ? {} : { memo }),
        recovery_ref,
        seq: state.seq(),
        created_ms: state.now(),
      }
      state.cva.addresses.set(record.address_id, record)
      return reply.code(201).send(addressView(record))
    },
  )

  app.get<{ Params: CvaParams; Querystring: Omit<AssetFilter, 'fiat'> }>(
    `${cva}/addresses`,
    { schema: { querystring: { type: 'object', properties: { coin: { type: 'string', minLength: 1 }, token_id: { type: 'string', minLength: 1 } } } } },
    async (request) => {
      const link = linked(request)
      const matches = assetFilter(request.query)
      const records = [...state.cva.addresses.values()].filter((a) => a.collateral_id === link.collateral_id && matches(a.key))
      return { addresses: records.map(addressView) }
    },
  )

  app.get<{ Params: CvaParams & { address_id: string } }>(`${cva}/addresses/:address_id`, async (request) => {
    const link = linked(request)
    const record = state.cva.addresses.get(request.params.address_id)
    if (record?.collateral_id !== link.collateral_id) throw new LegacyError('CVA_ADDRESS_NOT_FOUND', `no collateral address ${request.params.address_id}`)
    return addressView(record)
  })

  const intentProperties = { asset: assetSpecSchema, amount: decimalSchema, fb_intent_id: { type: 'string', minLength: 1 } }

  /** Records the exchange's decision on a Fireblocks intent; `decide` returns the decline reason, if any, and extra fields. */
  function recordIntent(
    link: CvaLink,
    direction: CvaIntent['direction'],
    body: { asset: AssetSpec; amount: string; fb_intent_id: string },
    decide: (entry: Listed, amount: bigint) => { reason?: string; fields?: Partial<CvaIntent> },
  ): CvaIntent {
    const entry = collateralAsset(body.asset)
    const amount = toMinor(body.amount, entry.decimals, 'amount')
    if (amount === 0n) throw new LegacyError('AMOUNT_TOO_SMALL', 'amount must be positive', 'amount')
    const { reason, fields } = decide(entry, amount)
    const intent: CvaIntent = {
      intent_id: randomUUID(),
      collateral_id: link.collateral_id,
      direction,
      fb_intent_id: body.fb_intent_id,
      key: entry.key,
      ...(body.asset.testnet === undefined ? {} : { testnet: body.asset.testnet }),
      amount,
      decision: reason === undefined ? 'APPROVE' : 'DECLINE',
      ...(reason === undefined ? {} : { reason }),
      ...fields,
      created_ms: state.now(),
    }
    state.cva.intents.set(intent.intent_id, intent)
    return intent
  }

  app.post<{ Params: CvaParams; Body: { asset: AssetSpec; amount: string; fb_intent_id: string } }>(
    `${cva}/deposit-intents`,
    { schema: { body: { type: 'object', required: ['asset', 'amount', 'fb_intent_id'], properties: intentProperties } } },
    async (request, reply) => {
      const link = linked(request)
      const intent = recordIntent(link, 'DEPOSIT', request.body, (entry) => ({ reason: declineReason(state, link, entry, request.body.asset.testnet) }))
      return reply.code(201).send(intentView(intent))
    },
  )

  app.post<{ Params: CvaParams; Body: { asset: AssetSpec; amount: string; address: string; memo?: string; fb_intent_id: string } }>(
    `${cva}/withdrawal-intents`,
    {
      schema: {
        body: {
          type: 'object',
          required: ['asset', 'amount', 'address', 'fb_intent_id'],
          properties: { ...intentProperties, address: { type: 'string', minLength: 1 }, memo: { type: 'string' } },
        },
      },
    },
    async (request, reply) => {
      const link = linked(request)
      const { address, memo } = request.body
      const intent = recordIntent(link, 'WITHDRAWAL', request.body, (entry, amount) => {
        const held = holding(state, link.collateral_id, entry.key)
        const reason =
          declineReason(state, link, entry, request.body.asset.testnet) ??
          (currentPlan(state, link.collateral_id).state === 'SETTLING' ? 'a settlement is in progress' : undefined) ??
          (amount > held ? `only ${formatMinor(held, entry.decimals)} ${entry.ticker} is held as collateral` : undefined)
        return { reason, fields: { address, ...(memo === undefined ? {} : { memo }) } }
      })
      return reply.code(201).send(intentView(intent))
    },
  )

  function txRoutes(direction: CvaTx['direction'], path: string) {
    app.get<{ Params: CvaParams; Querystring: PagingQuery }>(`${cva}/${path}`, { schema: { querystring: { type: 'object', properties: pagingProperties } } }, async (request) => {
      const link = linked(request)
      const txs = [...state.cva.txs.values()].filter((tx) => tx.collateral_id === link.collateral_id && tx.direction === direction)
      return page(txs, request.query, (tx) => cvaTxView(state, tx))
    })

    // Fireblocks refers to collateral transactions by its own id.
    app.get<{ Params: CvaParams & { fb_tx_id: string } }>(`${cva}/${path}/:fb_tx_id`, async (request) => {
      const link = linked(request)
      const tx = [...state.cva.txs.values()].find((t) => t.collateral_id === link.collateral_id && t.direction === direction && t.fb_tx_id === request.params.fb_tx_id)
      if (!tx) throw new LegacyError('CVA_TX_NOT_FOUND', `no collateral transaction ${request.params.fb_tx_id}`)
      return cvaTxView(state, tx)
    })

    app.post<{ Params: CvaParams; Body: { fb_tx_id: string; fb_intent_id: string; intent_id: string; settlement?: { settlement_id: string; settlement_tx_id: string } } }>(
      `${cva}/${path}`,
      {
        schema: {
          body: {
            type: 'object',
            required: ['fb_tx_id', 'fb_intent_id', 'intent_id'],
            properties: {
              fb_tx_id: { type: 'string', minLength: 1 },
              fb_intent_id: { type: 'string', minLength: 1 },
              intent_id: { type: 'string', minLength: 1 },
              settlement: {
                type: 'object',
                required: ['settlement_id', 'settlement_tx_id'],
                properties: { settlement_id: { type: 'string' }, settlement_tx_id: { type: 'string' } },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const link = linked(request)
        const { fb_tx_id, fb_intent_id, intent_id, settlement } = request.body
        const existing = [...state.cva.txs.values()].find((t) => t.collateral_id === link.collateral_id && t.direction === direction && t.fb_tx_id === fb_tx_id)
        if (existing) return reply.code(200).send(cvaTxView(state, existing))
        const intent = state.cva.intents.get(intent_id)
        if (intent?.collateral_id !== link.collateral_id || intent.direction !== direction) {
          throw new LegacyError('INTENT_NOT_FOUND', `no ${direction.toLowerCase()} intent ${intent_id}`, 'intent_id')
        }
        if (intent.fb_intent_id !== fb_intent_id) throw new LegacyError('INTENT_MISMATCH', `intent ${intent_id} was approved for another Fireblocks intent`, 'fb_intent_id')
        const reason = intent.reason ?? (direction === 'WITHDRAWAL' && intent.amount > holding(state, link.collateral_id, intent.key) ? 'collateral no longer covers the withdrawal' : undefined)
        // Deposits wait for the chain; approved withdrawals leave the collateral at once.
        const status: CvaTx['status'] = reason !== undefined ? 'REJECTED' : direction === 'DEPOSIT' ? 'PENDING' : 'APPROVED'
        if (status === 'APPROVED') adjustHolding(state, link.collateral_id, intent.key, -intent.amount)
        const now = state.now()
        const tx: CvaTx = {
          tx_id: randomUUID(),
          collateral_id: link.collateral_id,
          direction,
          fb_tx_id,
          intent_id,
          fb_intent_id,
          status,
          ...(reason === undefined ? {} : { reason }),
          ...(settlement === undefined ? {} : { settlement }),
          seq: state.seq(),
          created_ms: now,
          updated_ms: now,
        }
        state.cva.txs.set(tx.tx_id, tx)
        return reply.code(201).send(cvaTxView(state, tx))
      },
    )
  }
  txRoutes('DEPOSIT', 'deposits')
  txRoutes('WITHDRAWAL', 'withdrawals')
}
