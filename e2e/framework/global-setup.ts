// Jest loads this file outside its module mapping, so it imports nothing local; the plane names
// come from planes.json, which e2e/framework/testenv.ts reads too.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Starts the hub and spokes once for the whole e2e run: local control planes from hack/testenv, or
 * kind clusters with E2E_PROVIDER=kind. With FLOTILLA_E2E_REUSE=1 an already running set is used as
 * is (and left running) for fast local iteration; otherwise local planes are tied to this process,
 * so they stop even when the run is interrupted.
 */
export default function globalSetup(): void {
  const planes = JSON.parse(readFileSync(new URL('planes.json', import.meta.url), 'utf8')) as string[];
  if (process.env.E2E_PROVIDER === 'kind') {
    execFileSync(new URL('../../hack/kind/up.sh', import.meta.url).pathname, { stdio: 'inherit' });
    return;
  }
  const owner = process.env.FLOTILLA_E2E_REUSE === '1' ? [] : ['--owner-pid', String(process.pid)];
  execFileSync(new URL('../../hack/testenv/testenv', import.meta.url).pathname, ['up', ...owner, ...planes], {
    stdio: 'inherit',
  });
}
