// Exit codes of every rwm command, and how errors reach the user (a line, no stack trace).

export const EXIT = {
  OK: 0,
  /** The command ran and failed (I/O error, server error, check found problems). */
  FAILURE: 1,
  /** Wrong usage: a bad flag, a bad config file, a refused combination of options. */
  USAGE: 2,
  /** Stopped by SIGINT. */
  INTERRUPTED: 130,
} as const;

export const EXIT_HELP = `
Exit status:
  0    success
  1    the command failed
  2    wrong usage or invalid configuration
  130  interrupted`;

/** An error meant for the user: printed as one message, with an exit code. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.USAGE,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

/** Ends a command with an exit code after it printed its own result (e.g. `storage check` with findings). */
export class CommandExit extends Error {
  override readonly name = 'CommandExit';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
