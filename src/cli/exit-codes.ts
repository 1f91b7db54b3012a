/** CLI exit codes: a contract for scripts and cron wrappers. */
export const EXIT_OK = 0;
/** The export ran and failed (ExportJob FAILED, deadline exceeded, download window passed ...). */
export const EXIT_EXPORT_FAILED = 1;
/** Bad input: nothing was started and no API call was made. */
export const EXIT_BAD_INPUT = 2;

/** Thrown for bad CLI input; carries every problem found, each naming the field and the rule. */
export class CliInputError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [message],
  ) {
    super(message);
    this.name = 'CliInputError';
  }
}
