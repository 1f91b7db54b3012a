// `worker`: loads the worker only when this command runs, so ops commands never pay for it.
import type { Command } from 'commander';
import { loadConfig } from '../config/config';
import type { CliContext } from './program';

export function registerWorkerCommand(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .description('run the export worker (SIGINT/SIGTERM shut it down gracefully)')
    .action(
      ctx.act(async () => {
        const { runWorkerCommand } = await import('../worker');
        return runWorkerCommand(loadConfig());
      }),
    );
}
