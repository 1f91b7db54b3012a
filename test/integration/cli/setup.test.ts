// `m3ter-exports setup` against the real dev server: on a namespace without our search attributes it adds
// every one the workflows use, a second run finds them all present, and an attribute registered with another
// type is reported as a conflict instead of being changed.
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { registerSearchAttributes, SearchAttributeConflictError } from '../../../src/cli/setup-command';
import { SEARCH_ATTRIBUTES } from '../../../src/contract/search-attributes';
import { waitFor } from '../../support/wait-for';
import { connectTestTemporal, type TestTemporal } from '../../support/temporal-harness';

const ROOT = path.resolve(__dirname, '../../..');
const NAMES = SEARCH_ATTRIBUTES.map((k) => k.name);

async function freshNamespace(t: TestTemporal): Promise<string> {
  const namespace = `setup-${randomUUID().slice(0, 8)}`;
  await t.connection.workflowService.registerNamespace({
    namespace,
    workflowExecutionRetentionPeriod: msToTs('1 day'),
  });
  // Namespace registration propagates asynchronously; wait until the frontend knows it.
  await waitFor(
    async () => (await t.connection.workflowService.describeNamespace({ namespace })) && namespace,
    `namespace ${namespace} to become visible`,
    { timeoutMs: 10_000 },
  );
  return namespace;
}

describe('m3ter-exports setup', () => {
  let t: TestTemporal;
  beforeAll(async () => {
    t = await connectTestTemporal();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('adds every search attribute on a namespace that has none, then finds them all present', async () => {
    const namespace = await freshNamespace(t);
    const env = { ...process.env, TEMPORAL_ADDRESS: t.address, TEMPORAL_NAMESPACE: namespace };
    const first = spawnSync(process.execPath, ['bin/m3ter-exports.js', 'setup', '--json'], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
    });
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({ namespace, added: NAMES, present: [] });

    const second = await registerSearchAttributes(
      new Client({ connection: t.connection, namespace }),
      namespace,
    );
    expect(second).toEqual({ namespace, added: [], present: NAMES });
    const listed = await t.connection.operatorService.listSearchAttributes({ namespace });
    expect(Object.keys(listed.customAttributes ?? {})).toEqual(expect.arrayContaining(NAMES));
  });

  it('reports an attribute registered with another type as a conflict and changes nothing', async () => {
    const namespace = await freshNamespace(t);
    // M3terExportKind as Int: Temporal cannot change a type in place; the operator must decide.
    await t.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { M3terExportKind: 3 },
    });
    const client = new Client({ connection: t.connection, namespace });
    await expect(registerSearchAttributes(client, namespace)).rejects.toBeInstanceOf(
      SearchAttributeConflictError,
    );
    await expect(registerSearchAttributes(client, namespace)).rejects.toThrow(
      /M3terExportKind \(wanted Keyword\)/,
    );
    const listed = await t.connection.operatorService.listSearchAttributes({ namespace });
    expect(Object.keys(listed.customAttributes ?? {})).toEqual(['M3terExportKind']);
  });
});
