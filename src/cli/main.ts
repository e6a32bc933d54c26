#!/usr/bin/env node
// rwm's entry point: builds the command line, runs one command, maps errors to exit codes.
import { Command, CommanderError } from 'commander';
import { ignoreClosedPipes } from './closed-pipe.js';
import { ConfigError } from '../config/load.js';
import { CommandExit, EXIT, EXIT_HELP, UserError } from './exit.js';
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

const storageDeps = () => ({ env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });

/**
 * Each command's module, loaded only when needed: loading all of them (the AWS SDK among them)
 * took a third of a second, a third of a short `rwm scrub --path`.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  serve: async () => {
    const { registerServe } = await import('./commands/serve.js');
    return (p) => registerServe(p, () => ({ stdin: process.stdin, stdout: process.stdout, stopSignal: stopSignal(), env: process.env }));
  },
  storage: async () => {
    const { registerStorage } = await import('./commands/storage/index.js');
    return (p) => registerStorage(p, storageDeps);
  },
  state: async () => {
    const { registerState } = await import('./commands/state/index.js');
    return (p) => registerState(p, storageDeps);
  },
  restore: async () => {
    const { registerRestore } = await import('./commands/restore.js');
    return (p) => registerRestore(p, storageDeps);
  },
  scrub: async () => {
    const { registerScrub } = await import('./commands/scrub.js');
    return (p) => registerScrub(p, storageDeps);
  },
  maintain: async () => {
    const { registerMaintain } = await import('./commands/maintain.js');
    return (p) => registerMaintain(p, storageDeps);
  },
  ledger: async () => {
    const { registerLedger } = await import('./commands/ledger.js');
    return (p) => registerLedger(p, storageDeps);
  },
  backup: async () => {
    const { registerBackup } = await import('./commands/backup/index.js');
    return (p) => registerBackup(p, storageDeps);
  },
  schedule: async () => {
    const { registerSchedule } = await import('./commands/schedule.js');
    return (p) => registerSchedule(p, storageDeps);
  },
};

/** The command named first on the command line alone; all of them for help, --version and mistakes. */
export function commandsToLoad(argv: readonly string[]): string[] {
  const first = argv[2];
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
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
  for (const name of commandsToLoad(argv)) (await (COMMANDS[name] as () => Promise<(program: Command) => void>)())(program);
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
