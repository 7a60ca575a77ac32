// Helpers the API suites share: the flotilla executable, and the CRDs installed on the hub with it.
import { execFile } from 'node:child_process';
import { type CommandResult, programCommand, readPlaneState } from '../framework/index.js';

/** Runs the built `flotilla` program (dist/flotilla.mjs, built by `make build`). */
export function flotilla(args: string[]): Promise<CommandResult> {
  return new Promise((resolvePromise) => {
    execFile(...programCommand(args), (error, stdout, stderr) => {
      resolvePromise({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Installs the CRDs on the hub the way a user does; throws with the command's output on failure. */
export async function installCrdsOnHub(): Promise<void> {
  const result = await flotilla(['install', '--kubeconfig', readPlaneState('hub').kubeconfig]);
  if (result.code !== 0) throw new Error(`flotilla install failed (${result.code}): ${result.stderr}${result.stdout}`);
}
