import { dirname } from 'node:path'
import type { Problem } from '../config/problems.js'
import { credentialsFileSchema, type CredentialsFile } from '../config/schema.js'
import { readSecret } from '../config/secrets.js'
import { compileSchema, schemaProblems } from '../config/validate.js'
import { SourceDocument } from '../config/yaml.js'
import { KeyError, SchemeError, type SigningScheme } from '../signing/index.js'
import { buildCredential, keyDigest, keyFieldFor, type CredentialRecord } from './credential.js'

const validate = compileSchema(credentialsFileSchema)

/**
 * A credentials file (`auth.credentials: [{ file }]`): each entry's API key
 * and key material read, and its key parsed once to report a bad one at its
 * line. Adds plain records (API key → record) to `into`; problems to `problems`.
 */
export function loadCredentialFile(file: string, defaultScheme: SigningScheme, env: NodeJS.ProcessEnv, into: Map<string, CredentialRecord>, problems: Problem[]): void {
  const doc = SourceDocument.read(file)
  const invalid = schemaProblems(doc, validate)
  if (invalid.length > 0) {
    problems.push(...invalid)
    return
  }
  const baseDir = dirname(file)
  // Ids are unique across every credentials file.
  const ids = new Set([...into].map(([apiKey, record]) => record.id ?? keyDigest(apiKey)))
  ;(doc.value as CredentialsFile).credentials.forEach((entry, index) => {
    const at = (key: string | undefined, message: string) => problems.push(doc.problem(['credentials', index, ...(key ? [key] : [])], message))
    const algorithm = entry.scheme?.algorithm ?? defaultScheme.algorithm
    const keyField = keyFieldFor(algorithm)
    const otherField = keyField === 'secret' ? 'publicKey' : 'secret'
    if (entry[otherField] !== undefined) return at(otherField, `${algorithm} credentials take "${keyField}", not "${otherField}"`)
    const keyRef = entry[keyField]
    if (keyRef === undefined) return at(undefined, `missing "${keyField}" for a ${algorithm} credential`)
    let apiKey: string
    let key: string
    try {
      apiKey = readSecret(entry.apiKey, baseDir, env).trim()
    } catch (err) {
      return at('apiKey', (err as Error).message)
    }
    try {
      key = readSecret(keyRef, baseDir, env)
    } catch (err) {
      return at(keyField, (err as Error).message)
    }
    if (into.has(apiKey)) return at('apiKey', 'this API key is already configured')
    const record: CredentialRecord = { id: entry.id, enabled: entry.enabled, subject: entry.subject, accounts: entry.accounts, key, keyField, scheme: entry.scheme, tlsSubject: entry.tlsSubject }
    try {
      const { id } = buildCredential(apiKey, record, defaultScheme)
      if (ids.has(id)) return at('id', `credential id "${id}" is used twice`)
      ids.add(id)
      into.set(apiKey, record)
    } catch (err) {
      if (err instanceof SchemeError) err.problems.forEach((p) => at('scheme', `${p.field}: ${p.message}`))
      else if (err instanceof KeyError) at(keyField, err.message)
      else throw err
    }
  })
}
