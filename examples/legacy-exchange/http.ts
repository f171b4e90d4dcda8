import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import { LegacyError, type ErrorBody } from './errors.js'
import { ownAccount } from './access.js'
import type { State } from './state/store.js'

export const USER_HEADER = 'x-legacy-user'
export const OPERATOR_HEADER = 'x-legacy-operator'
export const BACKOFFICE_PREFIX = '/internal/v1/backoffice/'

/** The authenticated caller's user id (the onRequest hook has already checked it). */
export function callerOf(request: FastifyRequest): string {
  return request.headers[USER_HEADER] as string
}

/**
 * The exchange's HTTP conventions, in the order a request meets them: JSON bodies
 * (an empty body is no body), caller authentication (401), the path's user must be the
 * caller (403) and the path's account must be theirs (404) — checked before the body
 * is validated, so an unknown account is reported as such whatever the payload — then
 * schema validation (400), all failures in the exchange's error envelope.
 */
export function installConventions(app: FastifyInstance, state: State): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString()
    if (text.length === 0) done(null, undefined)
    else parseJson(request, text, done)
  })

  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith(BACKOFFICE_PREFIX)) {
      if (!request.headers[OPERATOR_HEADER]) throw new LegacyError('UNAUTHENTICATED', `back-office calls need ${OPERATOR_HEADER}`)
      return
    }
    const user = request.headers[USER_HEADER]
    if (typeof user !== 'string' || !state.users.has(user)) throw new LegacyError('UNAUTHENTICATED', `missing or unknown ${USER_HEADER}`)
  })

  app.addHook('preValidation', async (request) => {
    const params = request.params as { uid?: string; account_id?: string }
    if (params.uid === undefined) return
    const caller = callerOf(request)
    if (params.uid !== caller) throw new LegacyError('FORBIDDEN', 'the path names another user')
    if (params.account_id !== undefined) ownAccount(state, caller, params.account_id)
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof LegacyError) return reply.code(error.status).send(error.toBody())
    if (error.validation) return reply.code(400).send(validationError(error))
    if (error.statusCode !== undefined && error.statusCode < 500) return reply.code(error.statusCode).send(malformed(publicMessage(error.message)))
    request.log.error(error)
    return reply.code(500).send(new LegacyError('INTERNAL', 'internal error').toBody())
  })

  app.setNotFoundHandler((request, reply) => {
    // The method only: callers relay these messages, and the internal path is nobody's business.
    const error = new LegacyError('ROUTE_NOT_FOUND', `no such ${request.method} route`)
    return reply.code(error.status).send(error.toBody())
  })
}

/** A framework message without the internal URL it may quote ("'/internal/v1/…' is exceeding the max param length"). */
function publicMessage(message: string): string {
  return message.replace(/'\/[^']*'/g, 'the path')
}

/** Requests the framework refuses before routing or parsing (bad URL, bad JSON, wrong media type). */
export function malformed(msg: string): ErrorBody {
  return { error: { code: 'MALFORMED_REQUEST', msg } }
}

/** Schema failures name the offending input as a dotted path (body) or parameter name (query). */
function validationError(error: FastifyError): ErrorBody {
  const [first] = error.validation ?? []
  const path = (first?.instancePath ?? '').split('/').filter(Boolean)
  const missing = first?.keyword === 'required' ? String((first.params as { missingProperty?: string }).missingProperty) : undefined
  const field = [...path, ...(missing ? [missing] : [])].join('.')
  if (error.validationContext === 'querystring') return { error: { code: 'INVALID_QUERY', msg: `query ${error.message}`, field } }
  if (!field) return { error: { code: 'MALFORMED_REQUEST', msg: error.message } }
  return { error: { code: missing ? 'MISSING_FIELD' : 'INVALID_FIELD', msg: error.message, field } }
}
