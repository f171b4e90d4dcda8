import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from './temp.js'

/** PEM files made by the openssl CLI at test time: never by the code under test. */
export interface Pem {
  cert: string
  key: string
  certFile: string
  keyFile: string
}

export interface Authority extends Pem {
  /** A leaf certificate this CA signs: `serverAuth` for localhost / 127.0.0.1 / ::1, or `clientAuth` with the given subject. */
  issue(name: string, usage: 'server' | 'client', subject?: string): Pem
}

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
}

function pem(dir: string, name: string): Pem {
  const certFile = join(dir, `${name}.crt`)
  const keyFile = join(dir, `${name}.key`)
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

/** A certificate authority of its own, in its own directory. */
export function makeAuthority(name = 'ca', dir = tempDir('nlgw-tls-')): Authority {
  openssl(dir, 'req', '-x509', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name} test CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  return {
    ...pem(dir, name),
    issue(leaf, usage, subject = usage === 'server' ? '/CN=localhost' : `/CN=${leaf}`) {
      const extensions = join(dir, `${leaf}.ext`)
      writeFileSync(
        extensions,
        usage === 'server' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n',
      )
      openssl(dir, 'req', ...EC_KEY, '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`, '-subj', subject)
      openssl(dir, 'x509', '-req', '-in', `${leaf}.csr`, '-CA', `${name}.crt`, '-CAkey', `${name}.key`, '-CAcreateserial', '-out', `${leaf}.crt`, '-days', '2', '-extfile', extensions)
      return pem(dir, leaf)
    },
  }
}
