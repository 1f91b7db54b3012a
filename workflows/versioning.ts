// A workflow type's Worker Versioning behaviour (docs/deploying.md#versioning-behaviours), declared only
// where the worker runs versioned: the server refuses a behaviour from a worker without a deployment
// version (WORKER_VERSIONING=off, the tests' in-process workers). The getter runs once per run, at its
// first activation, when workflowInfo() names the version executing it.
import type { VersioningBehavior, WorkflowDefinitionOptions } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';

export type DeclaredBehaviour = (() => WorkflowDefinitionOptions) & {
  versioningBehavior: VersioningBehavior;
};

export function versioned(versioningBehavior: VersioningBehavior): DeclaredBehaviour {
  // An unversioned worker still reports a build id (its bundle's checksum) but no deployment name.
  const getter = () =>
    workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior } : {};
  return Object.assign(getter, { versioningBehavior });
}
