// A certificate authority made for one test, and a serving certificate it signs for the loopback
// address, with the system's openssl: the loopback servers speak HTTPS as real Git hosts and
// chart repositories do, and the hub is given the CA as a Secret's `ca.crt`.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runToolOk } from './tools.js';

export interface TestTLS {
  /** The CA certificate (PEM): what a client trusts, and what goes into a Secret's `ca.crt`. */
  caPEM: string;
  /** The same CA certificate as a file, for `git -c http.sslCAInfo=` and `helm --ca-file`. */
  caFile: string;
  /** The serving certificate (PEM) for 127.0.0.1 and localhost, signed by the CA. */
  certPEM: string;
  keyPEM: string;
}

/** Generates a fresh CA and a serving certificate in `dir` (a test's private temporary folder). */
export async function createTestTLS(dir: string): Promise<TestTLS> {
  const file = (name: string) => join(dir, name);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await runToolOk('openssl', [
    'req',
    '-x509',
    ...key,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=flotilla e2e CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await runToolOk('openssl', ['req', ...key, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1']);
  await writeFile(
    file('server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n',
  );
  await runToolOk('openssl', [
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.crt'),
    '-days',
    '2',
    '-extfile',
    file('server.ext'),
  ]);
  return {
    caPEM: await readFile(file('ca.crt'), 'utf8'),
    caFile: file('ca.crt'),
    certPEM: await readFile(file('server.crt'), 'utf8'),
    keyPEM: await readFile(file('server.key'), 'utf8'),
  };
}
