// `m3ter-exports deployment status`: which builds of the worker's Worker Deployment are current, ramping,
// draining or drained (docs/deploying.md#a-rollout-step-by-step). Reads only; promoting a build is
// `temporal worker deployment set-current-version`.
import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { google } from '@temporalio/proto';
import type { Command } from 'commander';
import { DEFAULTS, loadTemporalConfig } from '../config/config';
import { EXIT_OK } from './exit-codes';
import type { CliContext } from './program';
import { withTemporalClient } from '../temporal/client';

const NOT_FOUND = 5;

const VERSION_STATUS = ['unspecified', 'inactive', 'current', 'ramping', 'draining', 'drained', 'created'];

type Timestamp = google.protobuf.ITimestamp | null | undefined;

export interface DeploymentVersionStatus {
  buildId: string;
  status: string;
  createdAt?: string;
}

export interface DeploymentStatus {
  deploymentName: string;
  exists: boolean;
  currentBuildId?: string;
  rampingBuildId?: string;
  rampingPercentage?: number;
  versions: DeploymentVersionStatus[];
}

function iso(t: Timestamp): string | undefined {
  if (!t?.seconds) return undefined;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

export async function deploymentStatus(
  client: Client,
  namespace: string,
  deploymentName: string,
): Promise<DeploymentStatus> {
  let info;
  try {
    info = (await client.workflowService.describeWorkerDeployment({ namespace, deploymentName }))
      .workerDeploymentInfo;
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === NOT_FOUND)
      return { deploymentName, exists: false, versions: [] };
    throw err;
  }
  const routing = info?.routingConfig;
  const versions = (info?.versionSummaries ?? []).map((v) => ({
    buildId: v.deploymentVersion?.buildId ?? '',
    status: VERSION_STATUS[v.status ?? 0] ?? String(v.status),
    ...(iso(v.createTime) ? { createdAt: iso(v.createTime) } : {}),
  }));
  versions.sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
  const ramping = routing?.rampingDeploymentVersion?.buildId;
  return {
    deploymentName,
    exists: true,
    ...(routing?.currentDeploymentVersion?.buildId
      ? { currentBuildId: routing.currentDeploymentVersion.buildId }
      : {}),
    ...(ramping
      ? { rampingBuildId: ramping, rampingPercentage: routing?.rampingVersionPercentage ?? 0 }
      : {}),
    versions,
  };
}

export function formatDeploymentStatus(s: DeploymentStatus): string {
  if (!s.exists) return `deployment ${s.deploymentName}: none yet (no versioned worker has polled)`;
  const lines = [
    `deployment ${s.deploymentName}`,
    `  current  ${s.currentBuildId ?? '(none: unversioned workers get the tasks)'}`,
    `  ramping  ${s.rampingBuildId ? `${s.rampingBuildId} at ${s.rampingPercentage} %` : '(none)'}`,
    '  versions (oldest first):',
  ];
  for (const v of s.versions)
    lines.push(`    ${v.status.padEnd(9)} ${v.buildId}  created ${v.createdAt ?? '?'}`);
  return lines.join('\n');
}

export function registerDeploymentCommand(program: Command, ctx: CliContext): void {
  program
    .command('deployment')
    .description("the worker's Worker Deployment (docs/deploying.md#upgrading-the-worker)")
    .command('status')
    .description('which builds are current, ramping, draining or drained')
    .option('--name <deploymentName>', 'the deployment (default TEMPORAL_DEPLOYMENT_NAME)')
    .option('--json', 'machine-readable output')
    .action(
      ctx.act(async (o: { name?: string; json?: boolean }) => {
        const temporal = loadTemporalConfig();
        const name = o.name ?? temporal.versioning?.deploymentName ?? DEFAULTS.TEMPORAL_DEPLOYMENT_NAME;
        const status = await withTemporalClient(temporal, (client) =>
          deploymentStatus(client, temporal.namespace, name),
        );
        ctx.io.stdout(o.json ? JSON.stringify(status) : formatDeploymentStatus(status));
        return EXIT_OK;
      }),
    );
}
