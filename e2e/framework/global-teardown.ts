// Jest loads this file outside its module mapping, so it imports nothing local (see global-setup.ts).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export default function globalTeardown(): void {
  if (process.env.FLOTILLA_E2E_REUSE === '1') return;
  if (process.env.E2E_PROVIDER === 'kind') {
    execFileSync(new URL('../../hack/kind/down.sh', import.meta.url).pathname, { stdio: 'inherit' });
    return;
  }
  const planes = JSON.parse(readFileSync(new URL('planes.json', import.meta.url), 'utf8')) as string[];
  execFileSync(new URL('../../hack/testenv/testenv', import.meta.url).pathname, ['down', ...planes], { stdio: 'inherit' });
}
