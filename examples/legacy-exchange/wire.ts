/** Pieces of the wire format shared by the route modules. */

/** Path parameters of everything under /internal/v1/users/{uid}/accounts/{account_id}. */
export interface AccountParams {
  uid: string
  account_id: string
}

export interface CvaParams extends AccountParams {
  collateral_id: string
}

/** Request amounts are decimal strings. */
export const decimalSchema = { type: 'string', pattern: '^\\d+(\\.\\d+)?$' } as const

export const beneficiarySchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    street: { type: 'string' },
    city: { type: 'string' },
    postcode: { type: 'string' },
    region: { type: 'string' },
    country: { type: 'string' },
  },
} as const

/** Responses show absent values as null rather than leaving the field out. */
export const orNull = <T>(value: T | undefined): T | null => value ?? null
