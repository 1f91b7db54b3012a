// What every command file needs to register itself on the program: where to write, and how an action
// reports its exit code (commander ignores action return values).
import type { Command } from 'commander';
import { loadTemporalConfig, type TemporalConfig } from '../config/config';
import { EXIT_OK } from './exit-codes';
import type { Io } from './io';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Action<A extends any[]> = (...args: A) => Promise<number | void> | number | void;

export interface CliContext {
  io: Io;
  /** Wraps an action so that its returned exit code becomes the process's. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  act<A extends any[]>(fn: Action<A>): (...args: A) => Promise<void>;
}

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/** A context whose actions record their exit code for `exitCode()` to return after parsing. */
export function createCliContext(io: Io): CliContext & { exitCode(): number } {
  let code = EXIT_OK;
  return {
    io,
    act:
      (fn) =>
      async (...args) => {
        code = (await fn(...args)) ?? EXIT_OK;
      },
    exitCode: () => code,
  };
}

/** Commander's collector for repeatable options. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A command that acts on one workflow by id against Temporal: `status`, `cancel`. */
export type WorkflowIdAction = (
  temporal: TemporalConfig,
  workflowId: string,
  flags: { json?: boolean },
  io: Io,
) => Promise<number>;

/** Registers `<parent> <name> <workflowId> [--json]`, run with the Temporal settings of the environment. */
export function registerWorkflowIdCommand(
  parent: Command,
  ctx: CliContext,
  name: string,
  description: string,
  run: WorkflowIdAction,
): void {
  parent
    .command(`${name} <workflowId>`)
    .description(description)
    .option('--json', 'machine-readable output')
    .action(
      // `--json` after the workflow id is parsed by the parent command, which declares it too.
      ctx.act(async (workflowId: string, _o: { json?: boolean }, cmd: Command) =>
        run(loadTemporalConfig(), workflowId, cmd.optsWithGlobals(), ctx.io),
      ),
    );
}
