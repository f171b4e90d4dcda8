import { ERRORS, GatewayError } from '../errors.js'
import { pathText, valueAt, withValueAt, type PathSegment } from './path.js'
import { MappingError } from './template.js'

/**
 * SPEC-README "Pagination" over a backend that returns whole lists: `limit`
 * items; `startingAfter` = the items after that id, `endingBefore` = those
 * before it (the ones closest to it); the named item is never included; an
 * unknown cursor gives an empty page. Both cursors at once are refused before
 * the backend is called (checkCursors).
 */
export interface PaginateSpec {
  /** Where the list is in the Network Link response, e.g. `balances`. */
  list: PathSegment[]
  /** Where each item's id is (default `id`). */
  id: PathSegment[]
}

export interface PageQuery {
  limit?: unknown
  startingAfter?: unknown
  endingBefore?: unknown
}

export const DEFAULT_LIMIT = 10
/** The spec's PaginationLimit: an integer from 1 to 200. */
export const MAX_LIMIT = 200

/**
 * SPEC-README: `startingAfter` and `endingBefore` are mutually exclusive; and
 * `limit`, as text or already coerced, is an integer in the spec's range (this
 * holds without the OpenAPI document too: -1 or "abc" must not make a page).
 */
export function checkCursors(query: PageQuery): void {
  if (query.startingAfter !== undefined && query.endingBefore !== undefined) throw new GatewayError(ERRORS.paginationConflict)
  if (query.limit === undefined) return
  const limit = typeof query.limit === 'number' ? query.limit : /^\d{1,4}$/.test(String(query.limit)) ? Number(query.limit) : NaN
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new GatewayError(ERRORS.requestInvalid, { message: `Request schema validation error: /limit must be an integer from 1 to ${MAX_LIMIT}`, propertyName: '/limit', requestPart: 'querystring' })
  }
}

export function paginate(body: unknown, spec: PaginateSpec, query: PageQuery, at: string): unknown {
  const items = valueAt(body, spec.list)
  if (!Array.isArray(items)) throw new MappingError(at, `the response has no list "${pathText(spec.list)}" to paginate`)
  const limit = query.limit === undefined ? DEFAULT_LIMIT : Number(query.limit)
  const position = (id: unknown) => items.findIndex((item) => String(valueAt(item, spec.id)) === String(id))
  let page: unknown[]
  if (query.startingAfter !== undefined) {
    const i = position(query.startingAfter)
    page = i === -1 ? [] : items.slice(i + 1, i + 1 + limit)
  } else if (query.endingBefore !== undefined) {
    const i = position(query.endingBefore)
    page = i === -1 ? [] : items.slice(Math.max(0, i - limit), i)
  } else {
    page = items.slice(0, limit)
  }
  return withValueAt(body, spec.list, page)
}
