#!/usr/bin/env node
// rwm's entry point: builds the command line, runs one command, maps errors to exit codes.
import { Command, CommanderError } from 'commander';
import { ignoreClosedPipes } from './closed-pipe.js';
import { ConfigError } from '../config/load.js';
import { CommandExit, EXIT, EXIT_HELP, UserError } from './exit.js';
import { registerServe } from './commands/serve.js';
import { registerStorage } from './commands/storage/index.js';
import { registerState } from './commands/state/index.js';
import { registerRestore } from './commands/restore.js';
import { registerScrub } from './commands/scrub.js';
import { registerMaintain } from './commands/maintain.js';
import { version } from './version.js';

/** Set when SIGINT stopped a command, which then exits 130 (SIGTERM, the service manager's stop, exits 0). */
let interrupted = false;

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => {
      interrupted = true;
      resolve();
    });
    process.once('SIGTERM', () => resolve());
  });
}

export async function main(argv: string[]): Promise<number> {
  // The pinned AWS SDK supports Node 20; its notice about future releases is not for rwm's users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  ignoreClosedPipes();
  const program = new Command('rwm')
    .description('rwm keeps restic backups alive when the backed-up machine is taken over')
    .version(version)
    .exitOverride()
    .showHelpAfterError()
    .addHelpText('after', EXIT_HELP);
  registerServe(program, () => ({ stdin: process.stdin, stdout: process.stdout, stopSignal: stopSignal(), env: process.env }));
  const storageDeps = () => ({ env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
  registerStorage(program, storageDeps);
  registerState(program, storageDeps);
  registerRestore(program, storageDeps);
  registerScrub(program, storageDeps);
  registerMaintain(program, storageDeps);
  try {
    await program.parseAsync(argv);
    return interrupted ? EXIT.INTERRUPTED : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    if (err instanceof CommandExit) return err.exitCode;
    if (err instanceof UserError) {
      process.stderr.write(`rwm: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`rwm: ${err.message}\n`);
      return EXIT.USAGE;
    }
    process.stderr.write(`rwm: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.FAILURE;
  }
}

const code = await main(process.argv);
process.exitCode = code;
if (code !== EXIT.OK) process.exit(code);
