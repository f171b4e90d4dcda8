import { BlockList } from 'node:net'
import type { Hash } from 'node:crypto'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import { parseCidr } from '../source-address.js'
import { clientTlsOptions, secureContextOptions, type ClientTls, type ListenerTls } from '../tls.js'
import type { RawConfig } from './schema.js'
import { readSecret } from './secrets.js'

/**
 * The parts of the config about the edge of the gateway: certificates read
 * from their PEM files (and digested into the config hash, so a rotated
 * certificate shows as a new config) and checked by OpenSSL where they are
 * named, and address lists checked entry by entry.
 */
export interface EdgeLoader {
  baseDir: string
  env: NodeJS.ProcessEnv
  hash: Hash
  at(path: Array<string | number>, message: string): void
}

type RawListenerTls = NonNullable<RawConfig['server']['tls']>
type RawClientTls = NonNullable<RawConfig['upstream']['tls']>

function readPem(loader: EdgeLoader, file: string, path: Array<string | number>): string | undefined {
  try {
    const pem = readSecret({ file }, loader.baseDir, loader.env)
    loader.hash.update(pem)
    return pem
  } catch (err) {
    loader.at(path, (err as Error).message)
    return undefined
  }
}

export function loadListenerTls(loader: EdgeLoader, raw: RawListenerTls | undefined, path: string[]): ListenerTls | undefined {
  if (!raw) return undefined
  const cert = readPem(loader, raw.cert, [...path, 'cert'])
  const key = readPem(loader, raw.key, [...path, 'key'])
  const ca = raw.ca === undefined ? undefined : readPem(loader, raw.ca, [...path, 'ca'])
  if (raw.requestClientCert && raw.ca === undefined) loader.at([...path, 'requestClientCert'], 'mutual TLS needs ca: the CA client certificates must be signed by')
  if (cert === undefined || key === undefined || (raw.ca !== undefined && ca === undefined)) return undefined
  const tls: ListenerTls = { cert, key, ...(ca !== undefined ? { ca } : {}), requestClientCert: raw.requestClientCert }
  return usable(loader, path, tls, secureContextOptions(tls))
}

export function loadClientTls(loader: EdgeLoader, raw: RawClientTls | undefined, path: string[]): ClientTls | undefined {
  if (!raw) return undefined
  if ((raw.cert === undefined) !== (raw.key === undefined)) loader.at(path, 'a client certificate needs both cert and key')
  const tls: ClientTls = {}
  for (const field of ['ca', 'cert', 'key'] as const) {
    const file = raw[field]
    if (file === undefined) continue
    const pem = readPem(loader, file, [...path, field])
    if (pem === undefined) return undefined
    tls[field] = pem
  }
  return usable(loader, path, tls, clientTlsOptions(tls) as SecureContextOptions)
}

/** `tls` when OpenSSL can make a context of it; else its reason (unreadable PEM, a key not matching the certificate) at `path`. */
function usable<T>(loader: EdgeLoader, path: string[], tls: T, options: SecureContextOptions): T | undefined {
  try {
    createSecureContext(options)
    return tls
  } catch (err) {
    loader.at(path, `the certificate, key or CA cannot be used: ${(err as Error).message}`)
    return undefined
  }
}

export function checkAddresses(loader: EdgeLoader, list: readonly string[] | undefined, path: string[]): void {
  list?.forEach((entry, i) => {
    const cidr = parseCidr(entry)
    if (!cidr) loader.at([...path, i], `"${entry}" is not an IP address or a CIDR block such as 203.0.113.0/24 or 2001:db8::/32`)
    else if (overlapsMappedIpv4(cidr)) loader.at([...path, i], `"${entry}" reaches into ::ffff:0:0/96, the form a dual-stack listener gives IPv4 clients, so it would match IPv4 clients: write IPv4 blocks as IPv4 (203.0.113.0/24), and IPv6 blocks that leave that range out`)
  })
}

const MAPPED_IPV4 = new BlockList()
MAPPED_IPV4.addSubnet('::ffff:0:0', 96, 'ipv6')

/** An IPv6 block that shares addresses with ::ffff:0:0/96: Node's BlockList matches IPv4 clients against those. */
function overlapsMappedIpv4(cidr: NonNullable<ReturnType<typeof parseCidr>>): boolean {
  if (cidr.family !== 'ipv6') return false
  if (cidr.prefix > 96) return MAPPED_IPV4.check(cidr.address, 'ipv6')
  const block = new BlockList()
  block.addSubnet(cidr.address, cidr.prefix, 'ipv6')
  return block.check('::ffff:0:0', 'ipv6')
}
