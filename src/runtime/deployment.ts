// Worker Versioning: a worker polls as one version (deployment name + build id) of its Worker Deployment,
// and the server hands it tasks only once that version is the deployment's current (or ramping) version.
// A worker makes its own build current when the deployment has no current version yet (a fresh namespace, a
// dev server, the first versioned release); otherwise promoting a build is the operator's step
// (docs/deploying.md#upgrading-the-worker), so starting a new build never moves work by itself.
import { isGrpcServiceError, type Client } from '@temporalio/client';
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import type { TemporalConfig } from '../config/config';
import type { AppLogger } from '../log/logger';
import { defaultBuildId } from './build-id';

export interface DeploymentVersion {
  deploymentName: string;
  buildId: string;
}

/** This worker's version, or undefined with WORKER_VERSIONING=off. */
export function deploymentVersion(
  temporal: TemporalConfig,
  bundlePath?: string,
): DeploymentVersion | undefined {
  if (!temporal.versioning) return undefined;
  const { deploymentName, buildId } = temporal.versioning;
  return { deploymentName, buildId: buildId ?? defaultBuildId({ bundlePath }) };
}

/**
 * The SDK's options. Every workflow type declares its own behaviour (workflows/*.ts, setWorkflowOptions);
 * the default covers one that does not: pinned, so it never meets code it did not start on.
 */
export function workerDeploymentOptions(
  version: DeploymentVersion | undefined,
): WorkerDeploymentOptions | undefined {
  if (!version) return undefined;
  return { useWorkerVersioning: true, version, defaultVersioningBehavior: 'PINNED' };
}

export type CurrentVersionOutcome = 'made-current' | 'already-current' | 'other-current';

export interface EnsureCurrentOptions {
  client: Client;
  namespace: string;
  version: DeploymentVersion;
  /** Task queues this build polls: all must be registered in the version before it becomes current. */
  taskQueues: string[];
  log: AppLogger;
  timeoutMs?: number;
  /** Stops waiting (the worker is shutting down). */
  signal?: AbortSignal;
}

const NOT_FOUND = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function describeDeployment(client: Client, namespace: string, deploymentName: string) {
  try {
    const r = await client.workflowService.describeWorkerDeployment({ namespace, deploymentName });
    return r;
  } catch (err) {
    // The deployment appears with its first version's first poll.
    if (isGrpcServiceError(err) && err.code === NOT_FOUND) return undefined;
    throw err;
  }
}

/** The task queues the server has registered in a version (on their first polls). */
export async function registeredQueues(client: Client, namespace: string, version: DeploymentVersion) {
  try {
    const r = await client.workflowService.describeWorkerDeploymentVersion({
      namespace,
      deploymentVersion: version,
    });
    return new Set((r.workerDeploymentVersionInfo?.taskQueueInfos ?? []).map((q) => q.name ?? ''));
  } catch (err) {
    if (isGrpcServiceError(err) && err.code === NOT_FOUND) return new Set<string>();
    throw err;
  }
}

/**
 * Makes this build the deployment's current version if it has none; reports who is current otherwise.
 * Retries while the server registers the version's task queues (it does so on their first polls).
 */
export async function makeCurrentIfNone(opts: EnsureCurrentOptions): Promise<CurrentVersionOutcome> {
  const { client, namespace, version, log } = opts;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let lastError: unknown;
  while (!opts.signal?.aborted) {
    try {
      const d = await describeDeployment(client, namespace, version.deploymentName);
      const current = d?.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId;
      if (current === version.buildId) return 'already-current';
      if (current) {
        log.warn(
          { ...version, currentBuildId: current },
          'another build is current: this build gets no tasks until it is made current ' +
            '(temporal worker deployment set-current-version; docs/deploying.md#a-rollout-step-by-step)',
        );
        return 'other-current';
      }
      const queues = d ? await registeredQueues(client, namespace, version) : new Set<string>();
      if (opts.taskQueues.every((q) => queues.has(q))) {
        await client.workflowService.setWorkerDeploymentCurrentVersion({
          namespace,
          deploymentName: version.deploymentName,
          buildId: version.buildId,
          conflictToken: d?.conflictToken,
          identity: `m3ter-exports worker ${version.buildId}`,
        });
        log.info(version, 'no build was current: made this build the current version of its deployment');
        return 'made-current';
      }
    } catch (err) {
      // A concurrent change (another replica making the same build current) or a version still registering.
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `could not make build ${version.buildId} current in deployment ${version.deploymentName}: ` +
          `${(lastError as Error | undefined)?.message ?? 'its task queues were not registered in time'}`,
      );
    }
    await sleep(250);
  }
  throw new Error('stopped before the deployment version was checked');
}
