import { createHash } from 'node:crypto'
import type { Network } from './catalog.js'

/**
 * Deposit coordinates the exchange hands out. They are derived from the record id, so a
 * restart reproduces the same addresses; they have the right shape per network but are
 * not real keys.
 */

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const HEX = '0123456789abcdef'
const DIGITS = '0123456789'

/** Stellar deposits share one exchange address and are told apart by memo. */
export const STELLAR_OMNIBUS = 'GCLGCYEXCHANGEOMNIBUSDEPOSITS7Q2XK4VHN5ZJ3LW6RT2MBE4YPD3A'

function chars(seed: string, alphabet: string, length: number): string {
  let out = ''
  for (let round = 0; out.length < length; round++) {
    for (const byte of createHash('sha256').update(`${seed}#${round}`).digest()) {
      out += alphabet[byte % alphabet.length]
      if (out.length === length) break
    }
  }
  return out
}

export function chainAddress(network: Network, seed: string): { address: string; memo?: string } {
  switch (network) {
    case 'BITCOIN':
      return { address: `bc1q${chars(seed, BECH32, 38)}` }
    case 'ETHEREUM':
    case 'POLYGON':
      return { address: `0x${chars(seed, HEX, 40)}` }
    case 'SOLANA':
      return { address: chars(seed, BASE58, 44) }
    case 'TRON':
      return { address: `T${chars(seed, BASE58, 33)}` }
    case 'ALGORAND':
      return { address: chars(seed, BASE32, 58) }
    case 'STELLAR':
      return { address: STELLAR_OMNIBUS, memo: chars(seed, DIGITS, 10) }
  }
}

/** A virtual IBAN on the exchange's banking partner (format only; no checksum). */
export function virtualIban(seed: string): string {
  return `GB${chars(seed, DIGITS, 2)}LGCY${chars(`${seed}/account`, DIGITS, 14)}`
}

export const PARTNER_BIC = 'LGCYGB2L'
