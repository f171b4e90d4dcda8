import { BlockList, isIP } from 'node:net'
import { ERRORS, GatewayError } from './errors.js'

/**
 * Which addresses the Network Link listener serves (`server.allow`: the
 * addresses Fireblocks publishes for its calls), and which peers may say, in
 * X-Forwarded-For, whom they forward for (`server.trustedProxies`). Node's
 * BlockList does the matching; an IPv4 rule also matches the IPv4-mapped
 * IPv6 form a dual-stack socket reports (`::ffff:203.0.113.7`).
 */

/** `203.0.113.0/24`, `2001:db8::/32` or a single address; undefined when it is neither. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, ...rest] = text.split('/')
  const version = isIP(address)
  if (version === 0 || rest.length > 0) return undefined
  const bits = version === 4 ? 32 : 128
  const prefix = prefixText === undefined ? bits : Number(prefixText)
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return undefined
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' }
}

/** A list of addresses and blocks, each already checked by the config loader. */
export function addressList(cidrs: readonly string[]): BlockList {
  const list = new BlockList()
  for (const text of cidrs) {
    const cidr = parseCidr(text)
    if (!cidr) throw new Error(`not an address or CIDR block: ${text}`)
    list.addSubnet(cidr.address, cidr.prefix, cidr.family)
  }
  return list
}

/** Whether `address` is an IP address on the list; anything else (an X-Forwarded-For entry that is not an address) is not. */
export function listed(list: BlockList, address: string | undefined): boolean {
  const version = isIP(address ?? '')
  return version !== 0 && list.check(address as string, version === 4 ? 'ipv4' : 'ipv6')
}

export interface SourcePolicy {
  /** For X-Forwarded-For: a hop whose address is a trusted proxy may name the next one. */
  trusts(address: string | undefined): boolean
  /**
   * Refuses a client outside `server.allow`. `client` is the peer, or the
   * address a trusted proxy forwarded for; `peer` is who connected.
   */
  admit(client: string | undefined, peer: string | undefined): void
}

export function sourcePolicy({ allow, trustedProxies = [] }: { allow?: readonly string[]; trustedProxies?: readonly string[] }): SourcePolicy {
  const allowed = allow ? addressList(allow) : undefined
  const proxies = addressList(trustedProxies)
  const trusts = (address: string | undefined) => listed(proxies, address)
  return {
    trusts,
    admit(client, peer) {
      if (!allowed || listed(allowed, client)) return
      const spec = trusts(peer) ? ERRORS.forwardedSourceNotAllowed : ERRORS.sourceNotAllowed
      throw new GatewayError(spec, { message: `${spec.message}: ${client ?? 'unknown'}` })
    },
  }
}
