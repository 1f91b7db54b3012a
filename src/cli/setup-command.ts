// `m3ter-exports setup`: registers, on the configured namespace, every search attribute the workflows use
// (src/contract/search-attributes.ts). Idempotent: attributes already there with the right type are left alone.
// Production namespaces need this once (and after an upgrade that adds an attribute); the dev server this
// repository starts registers the same list itself.
import type { Command } from 'commander';
import type { CliContext } from './program';
import { loadTemporalConfig } from '../config/config';
import { withTemporalClient } from '../temporal/client';
import { EXIT_OK } from './exit-codes';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { cliTypeName, SEARCH_ATTRIBUTES } from '../contract/search-attributes';

// gRPC status PERMISSION_DENIED (the SDK does not re-export grpc-js's status enum).
const PERMISSION_DENIED = 7;

export interface SetupReport {
  namespace: string;
  added: string[];
  present: string[];
}

/** Thrown when the namespace holds an attribute of the same name with another type: not fixable here. */
export class SearchAttributeConflictError extends Error {
  constructor(readonly conflicts: string[]) {
    super(
      `search attributes registered with another type (rename or remove them first): ${conflicts.join('; ')}`,
    );
    this.name = 'SearchAttributeConflictError';
  }
}

export async function registerSearchAttributes(client: Client, namespace: string): Promise<SetupReport> {
  const operator = client.connection.operatorService;
  try {
    const existing = await operator.listSearchAttributes({ namespace });
    const custom = existing.customAttributes ?? {};
    const added: string[] = [];
    const present: string[] = [];
    const conflicts: string[] = [];
    const missing: Record<string, number> = {};
    for (const key of SEARCH_ATTRIBUTES) {
      const want = encodeSearchAttributeIndexedValueType(key.type);
      if (want === undefined) throw new Error(`no indexed value type for ${key.name}`);
      const have = custom[key.name];
      if (have === undefined || have === null) {
        missing[key.name] = want;
        added.push(key.name);
      } else if (have !== want) {
        conflicts.push(`${key.name} (wanted ${cliTypeName(key.type)})`);
      } else {
        present.push(key.name);
      }
    }
    if (conflicts.length) throw new SearchAttributeConflictError(conflicts);
    if (added.length) await operator.addSearchAttributes({ namespace, searchAttributes: missing });
    return { namespace, added, present };
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === PERMISSION_DENIED) {
      throw new Error(
        `the Temporal server refused to register search attributes on namespace ${namespace}: ` +
          'this needs operator rights (on Temporal Cloud, create them in the namespace settings: ' +
          SEARCH_ATTRIBUTES.map((k) => `${k.name}=${cliTypeName(k.type)}`).join(', ') +
          ')',
      );
    }
    throw err;
  }
}

export function formatSetupReport(r: SetupReport): string {
  const lines = [`namespace ${r.namespace}`];
  for (const name of r.added) lines.push(`  added    ${name}`);
  for (const name of r.present) lines.push(`  present  ${name}`);
  return lines.join('\n');
}

export function registerSetupCommand(program: Command, ctx: CliContext): void {
  program
    .command('setup')
    .description('register the search attributes the workflows use on the namespace (idempotent)')
    .option('--json', 'machine-readable output')
    .action(
      ctx.act(async (o: { json?: boolean }) => {
        const temporal = loadTemporalConfig();
        const report = await withTemporalClient(temporal, (client) =>
          registerSearchAttributes(client, temporal.namespace),
        );
        ctx.io.stdout(o.json ? JSON.stringify(report) : formatSetupReport(report));
        return EXIT_OK;
      }),
    );
}
