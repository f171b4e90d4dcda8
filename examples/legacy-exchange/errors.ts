/**
 * The exchange's error envelope: `{"error":{"code":"ACCOUNT_NOT_FOUND","msg":"…","field":"…"}}`.
 * `field` (dotted request path, or a query parameter name) is present when one input caused the error.
 * Each code has exactly one HTTP status, so a mapping can key on either.
 */
const STATUS = {
  MALFORMED_REQUEST: 400,
  MISSING_FIELD: 400,
  INVALID_FIELD: 400,
  INVALID_QUERY: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  ROUTE_NOT_FOUND: 404,
  ACCOUNT_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  PAYOUT_NOT_FOUND: 404,
  DEPOSIT_NOT_FOUND: 404,
  ADDRESS_NOT_FOUND: 404,
  QUOTE_NOT_FOUND: 404,
  RAMP_NOT_FOUND: 404,
  COLLATERAL_NOT_FOUND: 404,
  CVA_ADDRESS_NOT_FOUND: 404,
  CVA_TX_NOT_FOUND: 404,
  INTENT_NOT_FOUND: 404,
  SETTLEMENT_PLAN_NOT_FOUND: 404,
  ACCOUNT_FROZEN: 409,
  QUOTE_NOT_OPEN: 409,
  QUOTE_EXPIRED: 409,
  ADDRESS_ALREADY_DISABLED: 409,
  SETTLEMENT_REVISION_STALE: 409,
  SETTLEMENT_IN_PROGRESS: 409,
  INVALID_TRANSITION: 409,
  UNKNOWN_TOKEN: 422,
  INSUFFICIENT_FUNDS: 422,
  METHOD_NOT_SUPPORTED: 422,
  ADDRESS_CREATION_NOT_ALLOWED: 422,
  DESTINATION_NOT_ALLOWED: 422,
  PAIR_NOT_SUPPORTED: 422,
  AMOUNT_BELOW_MINIMUM: 422,
  AMOUNT_TOO_SMALL: 422,
  AMOUNT_PRECISION: 422,
  AMOUNT_TOO_LARGE: 422,
  SOURCE_ASSET_NOT_SUPPORTED: 422,
  TARGET_ASSET_NOT_SUPPORTED: 422,
  ROUTE_NOT_SUPPORTED: 422,
  ASSET_NOT_SUPPORTED: 422,
  INTENT_MISMATCH: 422,
  NOT_MAIN_ACCOUNT: 422,
  FUNDING_ACCOUNT_NOT_ALLOWED: 422,
  INTERNAL: 500,
} as const

export type ErrorCode = keyof typeof STATUS

export interface ErrorBody {
  error: { code: ErrorCode; msg: string; field?: string }
}

export class LegacyError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }

  get status(): number {
    return STATUS[this.code]
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, msg: this.message, ...(this.field === undefined ? {} : { field: this.field }) } }
  }
}
