import type { Sequenced } from './state/types.js'

/** Offset paging, used by the exchange's high-volume lists: `?offset=&limit=&sort=` → `{data, total, offset, limit}`. */
export interface PagingQuery {
  offset: number
  limit: number
  sort: 'newest' | 'oldest'
}

export const MAX_PAGE = 1000

export const pagingProperties = {
  offset: { type: 'integer', minimum: 0, default: 0 },
  limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: 50 },
  sort: { type: 'string', enum: ['newest', 'oldest'], default: 'newest' },
} as const

export interface Page<V> {
  data: V[]
  total: number
  offset: number
  limit: number
}

export function page<T extends Sequenced, V>(items: Iterable<T>, query: PagingQuery, view: (item: T) => V): Page<V> {
  const sorted = [...items].sort((a, b) => a.created_ms - b.created_ms || a.seq - b.seq)
  if (query.sort === 'newest') sorted.reverse()
  return { data: sorted.slice(query.offset, query.offset + query.limit).map(view), total: sorted.length, offset: query.offset, limit: query.limit }
}
