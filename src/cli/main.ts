import { Command, CommanderError } from 'commander';
import { registerAgent } from './agent.js';
import { registerDashboard } from './dashboard.js';
import { registerHub } from './hub.js';
import { registerInstall } from './install.js';
import { registerJoin } from './join.js';
import { registerReconcile } from './reconcile.js';
import { registerStatus } from './status.js';
import { registerVersion } from './version.js';
import { errorMessage } from '../runtime/log.js';

/** Builds the `flotilla` command line; every subcommand lives in its own file in src/cli/. */
export function buildProgram(): Command {
  const program = new Command('flotilla')
    .description('Kubernetes fleet management: declare once on a hub, every member cluster converges to it.')
    .showHelpAfterError()
    .exitOverride();
  registerInstall(program);
  registerJoin(program);
  registerStatus(program);
  registerReconcile(program);
  registerHub(program);
  registerAgent(program);
  registerDashboard(program);
  registerVersion(program);
  return program;
}

/** Runs the CLI and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    process.stderr.write(`flotilla: ${errorMessage(error)}\n`);
    return 1;
  }
}
