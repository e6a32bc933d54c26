// `restic check`: plain text. stdout narrates the steps and ends with "no errors were found"; the errors
// themselves and "Fatal: repository contains errors" (exit 1) go to stderr.

export const CHECK_OK = 'no errors were found';

/** Whether check's stdout says the repository is sound. */
export function checkSaysOk(stdout: string): boolean {
  return stdout.split('\n').some((l) => l.trim() === CHECK_OK);
}
