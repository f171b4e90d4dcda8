import { toMinor } from '../money.js'
import { listed, TOKENS } from './catalog.js'
import type {
  Account,
  Book,
  ConvertPair,
  CvaAddress,
  CvaLink,
  Deposit,
  DepositAddress,
  DepositMethod,
  Endpoint,
  Payout,
  PayoutMethod,
  Quote,
  Ramp,
  RampRoute,
  User,
} from './types.js'

/**
 * The demo's starting state. Ids are fixed so configuration can refer to them; where the
 * official Network Link validator has a default for an id (WITHDRAWAL_SUB_ACCOUNT,
 * WITHDRAWAL_PEER_ACCOUNT, COLLATERAL_ACCOUNT, COLLATERAL_SIGNERS) the seed uses it.
 * Records are listed in creation order.
 */

export const USERS = {
  acme: 'db5ed46a-d731-4218-9a7d-d85aa439222f',
  globex: '94dfbec8-2ee3-4d2e-8269-384c3f5eb4ab',
} as const

export const ACCOUNTS = {
  acmeMain: 'c2159935-4e32-406c-9de9-e1cd191c037f',
  acmeDesk: 'c5bb0880-523c-4c1c-bfe7-bcf2941517a0',
  acmeTreasury: '9fa18096-3c9d-4f4b-9f73-c88bc656e5e4',
  acmeDormant: '1bb51835-1302-415a-b423-05dce44ed017',
  globexMain: 'be5ff76b-6cc8-4a39-af40-fc71aea1865c',
} as const

export const PAYOUT_METHODS = {
  btcChain: '804f2cb2-a9ba-46f1-bc3f-06fa780a5902',
  ethChain: '8b5158e9-11e5-4890-ac41-9e0dac95d02d',
  usdcChain: '6cc088b7-8b50-4f8c-99c1-69b21ff31969',
  usdtChain: '786e14a1-0f26-4199-ab8d-e369f20adb30',
  usdcPolygonChain: '94755a21-6bdf-436b-a701-74e13fffae6c',
  eurIban: 'c9c73b30-eded-47a4-ae4a-5a33c476157e',
  usdBook: '0b215c85-bd47-4779-a4ae-fde3a895d5f0',
  usdcBook: 'cbc46789-d3c5-466e-9f64-5cc9c6297130',
  usdInternalAny: '6cae374e-6bca-4be4-a39b-deab44ab2422',
  btcInternalAny: '97628269-0826-49ba-adef-e000b7391e46',
  usdInternalParent: 'd979c52a-8ac1-46b8-9690-2c940f0d36e4',
  usdcInternalParent: '4039ef3b-ebf6-460d-af7b-71a34fe209bb',
} as const

export const DEPOSIT_METHODS = {
  btcChain: 'b7b8afb6-f073-42bc-a41f-3c1ec0693efa',
  ethChain: '5efc7106-ec9d-4948-9c80-f9f7f293f9e0',
  usdcChain: '0cf41a69-29ca-4ba1-a711-6570e5dc5de1',
  usdcPolygonChain: 'b7d1ecd2-1cdf-43f3-8f22-bcd14daa6f0a',
  eurIbanVirtual: '80e938b2-4e31-482f-9356-6ef355e83d74',
  xlmAssigned: '65a55ecf-48f5-43e1-8869-8d6c4303034d',
  usdBook: 'bc824237-7d2f-429d-97a7-19d55e0cf00f',
  usdInternal: 'c750d2b2-a3f2-45df-aa11-1ce11f91dac8',
} as const

export const RAMP_ROUTES = {
  eurIbanToUsdc: 'a7c2799b-5ec9-456e-95a6-ef53c57835f9',
  usdAchToBtc: 'ce648465-fe1b-4dbe-b94f-480cef83f5b2',
  ethToUsdAch: '26593840-7764-4867-9ac6-66f09b6f4ed9',
  usdcToEurSepa: '8a5bfbe6-40eb-42d0-88ba-1e5719e8424d',
  usdcBridgePolygon: 'a2eb49fe-361d-40a0-9b1a-ab813438d354',
  usdBalanceToEth: '293ac383-9fc7-4c16-8992-9fc122c55c4d',
  btcBalanceToEurIban: '059229ab-fb5f-4743-94b3-81959ac1af10',
  usdcBalanceBridgeSolana: '5f0fce5c-8a47-43cd-aff3-e670430a003f',
} as const

export const PAIRS = {
  btcUsd: '9588ed33-d65c-42ba-9ca0-23aaec2a3c99',
  usdBtc: '4e412ecf-23e1-4687-b71d-d6d265a39080',
  ethUsd: 'ff46f59f-6043-4c02-bf42-db761dc9ee63',
  usdEth: '237d5319-4ec7-471f-bd05-39149a115d35',
  usdUsdc: 'e51b4b36-920a-4421-87b7-58a2e97c7224',
  usdcUsd: '189ce3f8-1363-48c7-9f4e-c957a8ff5ffd',
  eurUsd: 'e18d100d-6b37-462f-8ca5-893362175eb5',
} as const

export const BOOKS = {
  btcUsd: '7cb0efa8-35fa-4ac6-b967-8f04fa6a6ab9',
  ethUsd: 'd9124331-2242-4fbd-97e3-a64ca93acd83',
} as const

export const COLLATERAL = {
  /** The CVA Fireblocks opened for Acme's main account (the validator's default COLLATERAL_ACCOUNT). */
  acmeCva:
    'c8dd0660-555c-4c1c-bfe7-bcf2941517a0.be5ff76b-6cc8-4a39-af40-fc71aea1865c.c5bb0880-523c-4c1c-bfe7-bcf2941517a0',
  /** Collateral Signer users paired with the exchange's signer machine (the first two are the validator's COLLATERAL_SIGNERS). */
  signers: ['be5ff76b-6cc8-4a39-af40-fc71aea1865c', 'c5bb0880-523c-4c1c-bfe7-bcf2941517a0', 'fa863c43-7738-450a-982e-4b230dec6a30'],
  activeLink: 'dc8968f9-253e-4483-b656-afa522f51ec6',
  failedLink: '6a9ea1dd-15d7-4bce-bf6a-3df7497a2e4b',
  btcAddress: 'be49997a-8ed6-428c-a5a0-f5a0644aeea4',
  usdcAddress: 'e9a7ead5-7b71-4a55-9515-6ed8ea2f002c',
} as const

export const SEEDED_DEPOSIT_ADDRESSES = {
  acmeMainEthRetired: 'ee733fcd-28e5-43e6-8cb1-791995e35ded',
  acmeMainBtc: 'f8ada536-06bb-433f-a9ee-672993269a04',
  acmeMainEurIban: '8894e27f-ed45-49ed-aae0-5ca2779dbac9',
  acmeDeskBtc: '85fa4e24-66bd-4936-96bd-85d7b40cf422',
  acmeTreasuryUsdc: '62510148-2b72-4f2e-af90-29e4a4607979',
  acmeTreasuryEurIban: '1d84ea11-ac9f-45aa-a9cb-2866e71d7b69',
} as const

/** The exchange's own collection accounts, quoted in ramp payment instructions. */
export const COLLECTION = {
  eurIban: {
    rail: 'IBAN',
    iban: 'GB33BUKB20201555555555',
    bic: 'BUKBGB22',
    beneficiary: { name: 'Legacy Exchange Ltd Client Money', street: '1 Ledger Lane', city: 'London', postcode: 'EC2A 4NE', country: 'GB' },
  },
  usdAch: {
    rail: 'ACH',
    bank_name: 'JPMorgan Chase Bank',
    routing_number: '021000021',
    account_number: '483920175',
    account_type: 'CHECKING',
    beneficiary: { name: 'Legacy Exchange Inc', street: '85 Broad Street', city: 'New York', postcode: '10004', region: 'NY', country: 'US' },
  },
} satisfies Record<string, Endpoint>

const at = (iso: string): number => Date.parse(iso)
const amount = (key: string, text: string): bigint => toMinor(text, listed(key).decimals, 'seed')

type Seeded<T> = Omit<T, 'seq'>

export interface Seed {
  users: User[]
  accounts: Account[]
  balances: { account_id: string; key: string; available: bigint; held: bigint }[]
  payoutMethods: PayoutMethod[]
  depositMethods: DepositMethod[]
  rampRoutes: RampRoute[]
  pairs: ConvertPair[]
  books: Book[]
  depositAddresses: Seeded<DepositAddress>[]
  deposits: Seeded<Deposit>[]
  payouts: Seeded<Payout>[]
  quotes: Seeded<Quote>[]
  ramps: Seeded<Ramp>[]
  cva: {
    signers: string[]
    /** Collateral policy per eligible asset: share of collateral lent (bps) and settlement network fee. */
    eligible: { key: string; advance_bps: number; network_fee: bigint }[]
    links: Seeded<CvaLink>[]
    addresses: Seeded<CvaAddress>[]
    holdings: { collateral_id: string; key: string; amount: bigint }[]
    positions: { collateral_id: string; key: string; amount: bigint }[]
  }
}

const A = ACCOUNTS
const PM = PAYOUT_METHODS
const DM = DEPOSIT_METHODS
const R = RAMP_ROUTES

function accounts(): Account[] {
  const account = (
    account_id: string,
    user_id: string,
    parent_account_id: string | null,
    label: string,
    notes: string | null,
    created: string,
    methods: Pick<Account, 'payout_methods' | 'deposit_methods' | 'ramp_routes'>,
    status: Account['status'] = 'OPEN',
  ): Account => ({ account_id, user_id, parent_account_id, label, notes, status, created_ms: at(created), ...methods })
  return [
    account(A.acmeMain, USERS.acme, null, 'Acme Main', 'Prime brokerage main account', '2023-11-02T09:00:00Z', {
      payout_methods: [PM.btcChain, PM.ethChain, PM.usdcChain, PM.usdtChain, PM.usdcPolygonChain, PM.eurIban, PM.usdBook, PM.usdcBook, PM.usdInternalAny, PM.btcInternalAny],
      deposit_methods: [DM.btcChain, DM.ethChain, DM.usdcChain, DM.usdcPolygonChain, DM.xlmAssigned, DM.eurIbanVirtual, DM.usdBook, DM.usdInternal],
      ramp_routes: [R.eurIbanToUsdc, R.usdAchToBtc, R.ethToUsdAch, R.usdcToEurSepa, R.usdcBridgePolygon, R.usdBalanceToEth, R.btcBalanceToEurIban, R.usdcBalanceBridgeSolana],
    }),
    account(A.acmeDesk, USERS.acme, A.acmeMain, 'Acme Trading Desk', 'Spot trading desk', '2023-11-15T09:00:00Z', {
      payout_methods: [PM.btcChain, PM.usdInternalAny, PM.btcInternalAny],
      deposit_methods: [DM.btcChain, DM.usdInternal],
      ramp_routes: [R.btcBalanceToEurIban, R.usdBalanceToEth],
    }),
    account(A.acmeTreasury, USERS.acme, A.acmeMain, 'Acme Treasury', 'Treasury operations; sweeps go to the main account only', '2024-01-10T09:00:00Z', {
      payout_methods: [PM.eurIban, PM.usdInternalParent, PM.usdcInternalParent],
      deposit_methods: [DM.usdcChain, DM.eurIbanVirtual, DM.usdInternal],
      ramp_routes: [R.eurIbanToUsdc],
    }),
    account(
      A.acmeDormant,
      USERS.acme,
      null,
      'Acme Legacy OTC',
      'Frozen pending KYC refresh',
      '2024-02-20T09:00:00Z',
      { payout_methods: [PM.eurIban], deposit_methods: [DM.eurIbanVirtual], ramp_routes: [] },
      'FROZEN',
    ),
    account(A.globexMain, USERS.globex, null, 'Globex Main', null, '2024-03-01T09:00:00Z', {
      payout_methods: [PM.usdBook],
      deposit_methods: [DM.usdBook],
      ramp_routes: [],
    }),
  ]
}

function balances(): Seed['balances'] {
  const rows: [string, string, string, string?][] = [
    [A.acmeMain, 'USD', '2500000'],
    [A.acmeMain, 'EUR', '800000'],
    [A.acmeMain, 'BTC', '250'],
    [A.acmeMain, 'ETH', '4000'],
    [A.acmeMain, TOKENS.usdcEthereum, '3000000', '25000'],
    [A.acmeMain, TOKENS.usdtEthereum, '500000'],
    [A.acmeMain, TOKENS.usdcPolygon, '100000'],
    [A.acmeDesk, 'USD', '150000'],
    [A.acmeDesk, 'BTC', '25'],
    [A.acmeDesk, 'ETH', '300'],
    [A.acmeTreasury, 'USD', '400000'],
    [A.acmeTreasury, 'EUR', '250000'],
    [A.acmeTreasury, TOKENS.usdcEthereum, '750000'],
    [A.acmeDormant, 'USD', '10000'],
    [A.globexMain, 'USD', '50000'],
    [A.globexMain, TOKENS.usdcEthereum, '10000'],
  ]
  return rows.map(([account_id, key, available, held = '0']) => ({ account_id, key, available: amount(key, available), held: amount(key, held) }))
}

function payoutMethods(): PayoutMethod[] {
  const method = (method_id: string, rail: PayoutMethod['rail'], key: string, min: string, fee: string, scope?: PayoutMethod['scope']): PayoutMethod => ({
    method_id,
    rail,
    debit: key,
    send: key,
    min: amount(key, min),
    fee: amount(key, fee),
    ...(scope ? { scope } : {}),
  })
  return [
    method(PM.btcChain, 'ONCHAIN', 'BTC', '0.0002', '0.0001'),
    method(PM.ethChain, 'ONCHAIN', 'ETH', '0.005', '0.0015'),
    method(PM.usdcChain, 'ONCHAIN', TOKENS.usdcEthereum, '10', '2.5'),
    method(PM.usdtChain, 'ONCHAIN', TOKENS.usdtEthereum, '10', '3'),
    method(PM.usdcPolygonChain, 'ONCHAIN', TOKENS.usdcPolygon, '1', '0.1'),
    method(PM.eurIban, 'IBAN', 'EUR', '10', '0.5'),
    method(PM.usdBook, 'BOOK', 'USD', '1', '0'),
    method(PM.usdcBook, 'BOOK', TOKENS.usdcEthereum, '1', '0'),
    method(PM.usdInternalAny, 'INTERNAL', 'USD', '0.01', '0', 'ANY_OWN'),
    method(PM.btcInternalAny, 'INTERNAL', 'BTC', '0.00000001', '0', 'ANY_OWN'),
    method(PM.usdInternalParent, 'INTERNAL', 'USD', '0.01', '0', 'PARENT_ONLY'),
    method(PM.usdcInternalParent, 'INTERNAL', TOKENS.usdcEthereum, '0.01', '0', 'PARENT_ONLY'),
  ]
}

function depositMethods(): DepositMethod[] {
  const method = (method_id: string, rail: DepositMethod['rail'], key: string, self_service: boolean, scope?: DepositMethod['scope']): DepositMethod => ({
    method_id,
    rail,
    asset: key,
    credit: key,
    self_service,
    ...(scope ? { scope } : {}),
  })
  return [
    method(DM.btcChain, 'ONCHAIN', 'BTC', true),
    method(DM.ethChain, 'ONCHAIN', 'ETH', true),
    method(DM.usdcChain, 'ONCHAIN', TOKENS.usdcEthereum, true),
    method(DM.usdcPolygonChain, 'ONCHAIN', TOKENS.usdcPolygon, true),
    // Stellar deposits go to the exchange's address with the one memo assigned at onboarding.
    method(DM.xlmAssigned, 'ONCHAIN', 'XLM', false),
    method(DM.eurIbanVirtual, 'IBAN', 'EUR', true),
    method(DM.usdBook, 'BOOK', 'USD', false),
    method(DM.usdInternal, 'INTERNAL', 'USD', false, 'ANY_OWN'),
  ]
}

function rampRoutes(): RampRoute[] {
  const route = (
    route_id: string,
    kind: RampRoute['kind'],
    source: RampRoute['source'],
    target: RampRoute['target'],
    min: string,
    fee_bps: number,
    networkFee?: string,
  ): RampRoute => ({
    route_id,
    kind,
    source,
    target,
    min_amount: amount(source.key, min),
    fee_bps,
    ...(networkFee ? { network_fee: amount(target.key, networkFee) } : {}),
    ttl_s: 1800,
  })
  const usdc = TOKENS.usdcEthereum
  return [
    route(R.eurIbanToUsdc, 'BUY', { key: 'EUR', rail: 'IBAN' }, { key: usdc, rail: 'ONCHAIN' }, '5', 50, '1'),
    route(R.usdAchToBtc, 'BUY', { key: 'USD', rail: 'ACH' }, { key: 'BTC', rail: 'ONCHAIN' }, '10', 75, '0.00005'),
    route(R.ethToUsdAch, 'SELL', { key: 'ETH', rail: 'ONCHAIN' }, { key: 'USD', rail: 'ACH' }, '0.01', 60),
    route(R.usdcToEurSepa, 'SELL', { key: usdc, rail: 'ONCHAIN' }, { key: 'EUR', rail: 'SEPA' }, '10', 40),
    route(R.usdcBridgePolygon, 'BRIDGE', { key: usdc, rail: 'ONCHAIN' }, { key: TOKENS.usdcPolygon, rail: 'ONCHAIN' }, '1', 10, '0.1'),
    route(R.usdBalanceToEth, 'BUY', { key: 'USD', rail: 'BALANCE' }, { key: 'ETH', rail: 'ONCHAIN' }, '10', 50, '0.0005'),
    route(R.btcBalanceToEurIban, 'SELL', { key: 'BTC', rail: 'BALANCE' }, { key: 'EUR', rail: 'IBAN' }, '0.001', 50),
    route(R.usdcBalanceBridgeSolana, 'BRIDGE', { key: usdc, rail: 'BALANCE' }, { key: TOKENS.usdcSolana, rail: 'ONCHAIN' }, '1', 10, '0.01'),
  ]
}

function pairs(): ConvertPair[] {
  return [
    { pair_id: PAIRS.btcUsd, sell: 'BTC', buy: 'USD', fee_bps: 20 },
    { pair_id: PAIRS.usdBtc, sell: 'USD', buy: 'BTC', fee_bps: 20 },
    { pair_id: PAIRS.ethUsd, sell: 'ETH', buy: 'USD', fee_bps: 25 },
    { pair_id: PAIRS.usdEth, sell: 'USD', buy: 'ETH', fee_bps: 25 },
    { pair_id: PAIRS.usdUsdc, sell: 'USD', buy: TOKENS.usdcEthereum, fee_bps: 5 },
    { pair_id: PAIRS.usdcUsd, sell: TOKENS.usdcEthereum, buy: 'USD', fee_bps: 5 },
    { pair_id: PAIRS.eurUsd, sell: 'EUR', buy: 'USD', fee_bps: 15 },
  ]
}

function depositAddresses(): Seeded<DepositAddress>[] {
  const chain = (address_id: string, account_id: string, key: string, created: string, state: DepositAddress['state'] = 'ACTIVE'): Seeded<DepositAddress> => ({
    address_id,
    account_id,
    rail: 'ONCHAIN',
    asset: key,
    state,
    created_ms: at(created),
    ...(state === 'DISABLED' ? { disabled_ms: at(created) + 30 * 86_400_000 } : {}),
  })
  const iban = (address_id: string, account_id: string, created: string): Seeded<DepositAddress> => ({
    address_id,
    account_id,
    rail: 'IBAN',
    asset: 'EUR',
    state: 'ACTIVE',
    created_ms: at(created),
  })
  const DA = SEEDED_DEPOSIT_ADDRESSES
  // Coordinates (address, memo, IBAN, holder) are filled in when the state is built.
  return [
    chain(DA.acmeMainEthRetired, A.acmeMain, 'ETH', '2023-11-03T10:00:00Z', 'DISABLED'),
    chain(DA.acmeMainBtc, A.acmeMain, 'BTC', '2023-11-20T10:00:00Z'),
    iban(DA.acmeMainEurIban, A.acmeMain, '2023-11-21T10:00:00Z'),
    chain(DA.acmeDeskBtc, A.acmeDesk, 'BTC', '2023-11-22T10:00:00Z'),
    chain(DA.acmeTreasuryUsdc, A.acmeTreasury, TOKENS.usdcEthereum, '2024-01-11T10:00:00Z'),
    iban(DA.acmeTreasuryEurIban, A.acmeTreasury, '2024-01-11T11:00:00Z'),
  ]
}


function deposits(): Seeded<Deposit>[] {
  const DA = SEEDED_DEPOSIT_ADDRESSES
  const credited = (created: string) => ({ status: 'CREDITED' as const, created_ms: at(created), settled_ms: at(created) + 1_800_000 })
  return [
    {
      deposit_id: 'a786eeb1-652a-4420-8d0e-6f6c77e3284d',
      account_id: A.acmeTreasury,
      rail: 'ONCHAIN',
      asset: TOKENS.usdcEthereum,
      credit: TOKENS.usdcEthereum,
      amount: amount(TOKENS.usdcEthereum, '150000'),
      deposit_address_id: DA.acmeTreasuryUsdc,
      tx_hash: '0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060',
      from_address: '0x28C6c06298d514Db089934071355E5743bf21d60',
      ...credited('2024-05-03T08:15:00Z'),
    },
    {
      deposit_id: '20f11aec-c20b-4d81-8e8f-4c02108c9569',
      account_id: A.acmeMain,
      rail: 'ONCHAIN',
      asset: 'BTC',
      credit: 'BTC',
      amount: amount('BTC', '1.25'),
      deposit_address_id: DA.acmeMainBtc,
      tx_hash: 'f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16',
      from_address: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
      ...credited('2024-05-04T11:20:00Z'),
    },
    {
      deposit_id: '8d9b5652-f093-4a1d-b701-094af8012aea',
      account_id: A.acmeMain,
      rail: 'IBAN',
      asset: 'EUR',
      credit: 'EUR',
      amount: amount('EUR', '50000'),
      deposit_address_id: DA.acmeMainEurIban,
      payer_name: 'Acme Trading Ltd',
      payer_iban: 'GB82WEST12345698765432',
      reference: 'ACME-TOPUP-0506',
      ...credited('2024-05-06T13:05:00Z'),
    },
    {
      deposit_id: '7fa330b9-0513-491f-ac32-071c85d0aa6b',
      account_id: A.acmeDesk,
      rail: 'INTERNAL',
      asset: 'USD',
      credit: 'USD',
      amount: amount('USD', '20000'),
      from_account: A.acmeMain,
      status: 'CREDITED',
      created_ms: at('2024-05-07T10:00:00Z'),
      settled_ms: at('2024-05-07T10:00:00Z'),
    },
    {
      deposit_id: 'c6f01763-a7a7-4bef-81cc-69d50ab0f1d7',
      account_id: A.acmeTreasury,
      rail: 'IBAN',
      asset: 'EUR',
      credit: 'EUR',
      amount: amount('EUR', '75000'),
      deposit_address_id: DA.acmeTreasuryEurIban,
      payer_name: 'Acme Trading Ltd',
      payer_iban: 'GB82WEST12345698765432',
      reference: 'TREASURY-0508',
      ...credited('2024-05-08T09:40:00Z'),
    },
    {
      deposit_id: '4b86bb71-1f80-4ede-977a-90972513db5a',
      account_id: A.acmeMain,
      rail: 'BOOK',
      asset: 'USD',
      credit: 'USD',
      amount: amount('USD', '2500'),
      from_account: A.globexMain,
      reference: 'GLOBEX-SETTLE-17',
      status: 'CREDITED',
      created_ms: at('2024-05-09T15:30:00Z'),
      settled_ms: at('2024-05-09T15:30:00Z'),
    },
    {
      deposit_id: '14aa01f5-ddd5-4828-b2ae-9a9df40876da',
      account_id: A.acmeDesk,
      rail: 'ONCHAIN',
      asset: 'BTC',
      credit: 'BTC',
      amount: amount('BTC', '0.5'),
      deposit_address_id: DA.acmeDeskBtc,
      tx_hash: 'b6f6991d03df0e2e04dafffcd6bc418aac66049e2cd74b80f14ac86db1e3f0da',
      from_address: 'bc1qm34lsc65zpw79lxes69zkqmk6ee3ewf0j77s3h',
      status: 'PENDING',
      created_ms: at('2024-05-10T07:45:00Z'),
    },
  ]
}

function payouts(): Seeded<Payout>[] {
  const history = (steps: [Payout['status'], string, string][]): Payout['history'] => steps.map(([status, note, time]) => ({ status, note, at_ms: at(time) }))
  return [
    {
      payout_id: '196886f0-a94d-459d-aafc-fa7d922f0cc1',
      account_id: A.acmeMain,
      method_id: PM.btcChain,
      rail: 'ONCHAIN',
      debit: 'BTC',
      amount: amount('BTC', '0.5'),
      send: 'BTC',
      send_amount: amount('BTC', '0.4999'),
      fee: amount('BTC', '0.0001'),
      status: 30,
      address: 'bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh',
      tx_hash: '3a1b9e3c1f0d6f4a0e2b0f7e1c9d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f',
      created_ms: at('2024-05-03T09:12:00Z'),
      updated_ms: at('2024-05-03T09:48:00Z'),
      completed_ms: at('2024-05-03T09:48:00Z'),
      history: history([
        [10, 'Received, pending compliance review', '2024-05-03T09:12:00Z'],
        [20, 'Approved and broadcast', '2024-05-03T09:20:00Z'],
        [30, 'Confirmed on chain', '2024-05-03T09:48:00Z'],
      ]),
    },
    {
      payout_id: 'ccbf2328-5e76-4e8c-a5b8-cc843f5dafbe',
      account_id: A.acmeMain,
      method_id: PM.eurIban,
      rail: 'IBAN',
      debit: 'EUR',
      amount: amount('EUR', '10000'),
      send: 'EUR',
      send_amount: amount('EUR', '9999.5'),
      fee: amount('EUR', '0.5'),
      status: 40,
      iban: 'DE89370400440532013000',
      beneficiary: { name: 'Acme GmbH', street: 'Unter den Linden 1', city: 'Berlin', postcode: '10117', country: 'DE' },
      reference: 'INV-2024-118',
      created_ms: at('2024-05-05T14:00:00Z'),
      updated_ms: at('2024-05-05T16:30:00Z'),
      completed_ms: at('2024-05-05T16:30:00Z'),
      history: history([
        [10, 'Received, pending compliance review', '2024-05-05T14:00:00Z'],
        [40, 'Rejected: beneficiary name does not match the account holder', '2024-05-05T16:30:00Z'],
      ]),
    },
    {
      payout_id: 'd7a748c3-a712-430e-b638-0274ae631aed',
      account_id: A.acmeMain,
      method_id: PM.usdInternalAny,
      rail: 'INTERNAL',
      debit: 'USD',
      amount: amount('USD', '20000'),
      send: 'USD',
      send_amount: amount('USD', '20000'),
      fee: 0n,
      status: 30,
      to_account: A.acmeDesk,
      created_ms: at('2024-05-07T10:00:00Z'),
      updated_ms: at('2024-05-07T10:00:00Z'),
      completed_ms: at('2024-05-07T10:00:00Z'),
      history: history([[30, 'Booked', '2024-05-07T10:00:00Z']]),
    },
    {
      payout_id: '20d70ced-eacd-4a29-ae0f-c8afcc6e3208',
      account_id: A.globexMain,
      method_id: PM.usdBook,
      rail: 'BOOK',
      debit: 'USD',
      amount: amount('USD', '2500'),
      send: 'USD',
      send_amount: amount('USD', '2500'),
      fee: 0n,
      status: 30,
      to_account: A.acmeMain,
      reference: 'GLOBEX-SETTLE-17',
      created_ms: at('2024-05-09T15:30:00Z'),
      updated_ms: at('2024-05-09T15:30:00Z'),
      completed_ms: at('2024-05-09T15:30:00Z'),
      history: history([[30, 'Booked', '2024-05-09T15:30:00Z']]),
    },
    {
      payout_id: '605e79ea-218b-4f1f-af42-a3ad74f75dcc',
      account_id: A.acmeMain,
      method_id: PM.usdcChain,
      rail: 'ONCHAIN',
      debit: TOKENS.usdcEthereum,
      amount: amount(TOKENS.usdcEthereum, '25000'),
      send: TOKENS.usdcEthereum,
      send_amount: amount(TOKENS.usdcEthereum, '24997.5'),
      fee: amount(TOKENS.usdcEthereum, '2.5'),
      status: 20,
      address: '0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE',
      created_ms: at('2024-05-10T12:00:00Z'),
      updated_ms: at('2024-05-10T12:05:00Z'),
      history: history([
        [10, 'Received, pending compliance review', '2024-05-10T12:00:00Z'],
        [20, 'Approved and broadcast', '2024-05-10T12:05:00Z'],
      ]),
    },
  ]
}

function quotes(): Seeded<Quote>[] {
  return [
    {
      quote_id: 'f784fd5a-2bda-4971-9b2e-8e493954731a',
      account_id: A.acmeMain,
      pair_id: PAIRS.btcUsd,
      sell: 'BTC',
      buy: 'USD',
      sell_amount: amount('BTC', '0.1'),
      buy_amount: amount('USD', '6487'),
      fee_bps: 20,
      state: 'FILLED',
      created_ms: at('2024-05-06T12:00:00Z'),
      expires_ms: at('2024-05-06T12:01:00Z'),
      filled_ms: at('2024-05-06T12:00:20Z'),
    },
    {
      quote_id: 'af3b7f78-1c43-451b-a011-80abd7b2224c',
      account_id: A.acmeMain,
      pair_id: PAIRS.usdEth,
      sell: 'USD',
      buy: 'ETH',
      sell_amount: amount('USD', '5000'),
      buy_amount: amount('ETH', '1.55859375'),
      fee_bps: 25,
      state: 'EXPIRED',
      created_ms: at('2024-05-09T16:00:00Z'),
      expires_ms: at('2024-05-09T16:01:00Z'),
    },
  ]
}

function ramps(): Seeded<Ramp>[] {
  const usdc = TOKENS.usdcEthereum
  return [
    {
      ramp_id: '97d47687-9ca4-4fa1-a94d-a735b1595d95',
      account_id: A.acmeMain,
      route_id: R.eurIbanToUsdc,
      kind: 'BUY',
      funding: 'PAYIN',
      amount: amount('EUR', '1000'),
      source: { key: 'EUR', rail: 'IBAN' },
      target: { key: usdc, rail: 'ONCHAIN', address: '0x8f2a5a3b0e6c7d4f1e9b2c8a7d6e5f4a3b2c1d0e' },
      pay_in: { ...COLLECTION.eurIban, reference: 'RMP-97D47687' },
      fees_est: [
        { kind: 'TRADING', key: 'EUR', basis: 'BPS', bps: 50 },
        { kind: 'NETWORK', key: usdc, basis: 'FLAT', flat: amount(usdc, '1') },
      ],
      state: 'DONE',
      created_ms: at('2024-05-04T08:00:00Z'),
      updated_ms: at('2024-05-04T11:30:00Z'),
      expires_ms: at('2024-05-04T08:30:00Z'),
      received: { amount: amount('EUR', '1000') },
      settlement: {
        // 1000 EUR less 0.5% at 1.08 USDC/EUR, less the 1 USDC network fee.
        payout: { amount: amount(usdc, '1073.6'), tx_hash: '0x9e4b0f3a2c1d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f' },
        fees: [
          { kind: 'TRADING', key: 'EUR', basis: 'FLAT', flat: amount('EUR', '5') },
          { kind: 'NETWORK', key: usdc, basis: 'FLAT', flat: amount(usdc, '1') },
        ],
      },
    },
    {
      ramp_id: '097b4d52-f9f4-416a-b9ee-d85490723ebf',
      account_id: A.acmeMain,
      route_id: R.ethToUsdAch,
      kind: 'SELL',
      funding: 'PAYIN',
      amount: amount('ETH', '2'),
      source: { key: 'ETH', rail: 'ONCHAIN' },
      target: {
        key: 'USD',
        rail: 'ACH',
        bank_name: 'Bank of America',
        routing_number: '026009593',
        account_number: '000123456789',
        account_type: 'CHECKING',
        beneficiary: { name: 'Acme Trading Ltd', city: 'New York', country: 'US' },
      },
      pay_in: { rail: 'ONCHAIN', address: '0x6b175474e89094c44da98b954eedeac495271d0f' },
      fees_est: [{ kind: 'TRADING', key: 'ETH', basis: 'BPS', bps: 60 }],
      state: 'EXPIRED',
      created_ms: at('2024-05-08T14:00:00Z'),
      updated_ms: at('2024-05-08T14:30:00Z'),
      expires_ms: at('2024-05-08T14:30:00Z'),
    },
  ]
}

function cva(): Seed['cva'] {
  const C = COLLATERAL
  return {
    signers: [...C.signers],
    eligible: [
      { key: 'BTC', advance_bps: 8000, network_fee: amount('BTC', '0.00002') },
      { key: 'ETH', advance_bps: 7500, network_fee: amount('ETH', '0.0005') },
      { key: TOKENS.usdcEthereum, advance_bps: 9500, network_fee: amount(TOKENS.usdcEthereum, '2') },
    ],
    links: [
      {
        link_id: C.failedLink,
        account_id: A.acmeMain,
        collateral_id: '42232734-07a5-4ca4-a810-c1d3983c4dcb.c2159935-4e32-406c-9de9-e1cd191c037f.c0d345d5-8cad-403a-b0a2-48f335f2200d',
        signer_ids: ['17844c05-bbe2-48b6-a8db-55fc1339eeb8'],
        environment: 'SANDBOX',
        state: 'FAILED',
        reason: 'collateral signer 17844c05-bbe2-48b6-a8db-55fc1339eeb8 is not registered with the exchange',
        created_ms: at('2024-04-18T10:00:00Z'),
      },
      {
        link_id: C.activeLink,
        account_id: A.acmeMain,
        collateral_id: C.acmeCva,
        signer_ids: [C.signers[0], C.signers[1]],
        environment: 'PROD',
        state: 'ACTIVE',
        created_ms: at('2024-04-20T10:00:00Z'),
      },
    ],
    addresses: [
      { address_id: C.btcAddress, collateral_id: C.acmeCva, key: 'BTC', address: 'bc1q9h7garjk7qh0lsq6n8zd0pt3xh8f0gw6ctzmhv', recovery_ref: '1', created_ms: at('2024-04-21T10:00:00Z') },
      {
        address_id: C.usdcAddress,
        collateral_id: C.acmeCva,
        key: TOKENS.usdcEthereum,
        address: '0x1Dd0386E43C0F66981e46C6e6A57E9d8919b6125',
        recovery_ref: '1',
        created_ms: at('2024-04-21T10:05:00Z'),
      },
    ],
    holdings: [
      { collateral_id: C.acmeCva, key: 'BTC', amount: amount('BTC', '40') },
      { collateral_id: C.acmeCva, key: TOKENS.usdcEthereum, amount: amount(TOKENS.usdcEthereum, '250000') },
    ],
    // Negative: Acme owes the exchange (moved out of the CVA); positive: the exchange owes Acme.
    positions: [
      { collateral_id: C.acmeCva, key: 'BTC', amount: -amount('BTC', '0.25') },
      { collateral_id: C.acmeCva, key: TOKENS.usdcEthereum, amount: amount(TOKENS.usdcEthereum, '1500') },
    ],
  }
}

const users = (): User[] => [
  { user_id: USERS.acme, legal_name: 'Acme Trading Ltd', street: '10 Finsbury Square', city: 'London', postcode: 'EC2A 1AF', country: 'GB' },
  { user_id: USERS.globex, legal_name: 'Globex Capital LLC', street: '200 Park Avenue', city: 'New York', postcode: '10166', country: 'US' },
]

/** A fresh copy of the starting state (every app instance mutates its own). */
export function seed(): Seed {
  return {
    users: users(),
    accounts: accounts(),
    balances: balances(),
    payoutMethods: payoutMethods(),
    depositMethods: depositMethods(),
    rampRoutes: rampRoutes(),
    pairs: pairs(),
    books: [
      { book_id: BOOKS.btcUsd, base: 'BTC', quote: 'USD' },
      { book_id: BOOKS.ethUsd, base: 'ETH', quote: 'USD' },
    ],
    depositAddresses: depositAddresses(),
    deposits: deposits(),
    payouts: payouts(),
    quotes: quotes(),
    ramps: ramps(),
    cva: cva(),
  }
}
