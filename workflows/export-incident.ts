// exportIncidentWorkflow: one per export with an open incident (id `incident:export:<name>`, or
// `incident:schedule:<id>` for an m3ter schedule whose jobs no workflow owns). The first failure opens the
// incident and says so at once; later failures are counted and reported in an update at most once per
// update interval, and in a digest once per digest interval; the first success resolves it, naming the
// failed windows and whether each has been re-run since, and the workflow completes. The next failure
// starts a new run: a new incident.
//
// Failures arrive by signal-with-start from the alert delivery of each failed job (so each job once, by the
// ledger's claim; a repeat of the same key is ignored too); successes by signal from the export workflow.
// The state is this workflow's only, carried across continue-as-new.
import {
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import { KEPT_ALIVE_HEARTBEAT_TIMEOUT } from './common';
import { versioned } from './versioning';
import type { IncidentActivities } from '../activities/incident-activities';
import {
  incidentFailureSignal,
  incidentStateQuery,
  incidentSuccessSignal,
  MAX_INCIDENT_FAILURES,
  MAX_INCIDENT_KEYS,
  type IncidentEvent,
  type IncidentFailure,
  type IncidentInput,
  type IncidentResolution,
  type IncidentState,
  type IncidentSuccess,
} from '../src/contract/incidents';

const { deliverIncidentMessage, rerunStates } = proxyActivities<IncidentActivities>({
  // One attempt posts to every channel with its own retries.
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: KEPT_ALIVE_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumAttempts: 5 },
});

/** Continue as new after this many handled messages (each adds a few events). */
const MESSAGES_PER_RUN = 500;

// Auto-upgrade: an incident may stay open for days; its code moves to the current build at its next task, so a
// change to it must replay its recorded histories or be guarded by patched() (docs/deploying.md).
setWorkflowOptions(versioned('AUTO_UPGRADE'), exportIncidentWorkflow);

type Inbox = Array<{ failure: IncidentFailure } | { success: IncidentSuccess }>;

export async function exportIncidentWorkflow(input: IncidentInput): Promise<IncidentResolution | undefined> {
  let state: IncidentState | undefined = input.state;
  const inbox: Inbox = [];
  setHandler(incidentFailureSignal, (failure) => void inbox.push({ failure }));
  setHandler(incidentSuccessSignal, (success) => void inbox.push({ success }));
  setHandler(incidentStateQuery, () => state);
  const { updateIntervalMs, digestIntervalMs } = input.settings;
  let handled = 0;

  /** Keeps the messages channels posted and can edit, so the incident's later messages edit them. */
  function remember(s: IncidentState, results: Awaited<ReturnType<typeof deliverIncidentMessage>>) {
    const posted = (results ?? []).flatMap((r) => (r.posted ? [[r.channel, r.posted] as const] : []));
    if (posted.length > 0) s.threads = { ...s.threads, ...Object.fromEntries(posted) };
  }

  async function send(s: IncidentState, event: IncidentEvent, extra: Partial<IncidentState> = {}) {
    const results = await deliverIncidentMessage({
      failure: s.latest,
      note: {
        id: s.incidentId,
        event,
        subject: s.subject,
        openedAt: s.openedAt,
        failures: s.failures,
        windows: s.listed,
        unlisted: Math.max(0, s.failures - s.listed.length),
        ...(s.threads ? { threads: s.threads } : {}),
      },
    });
    Object.assign(s, extra);
    remember(s, results);
  }

  async function onFailure(f: IncidentFailure): Promise<void> {
    if (state?.keys.includes(f.key)) return;
    const now = new Date().toISOString();
    const listedItem = {
      kind: f.kind,
      at: f.at,
      ...(f.workflowId ? { workflowId: f.workflowId } : {}),
      ...(f.jobId ? { jobId: f.jobId } : {}),
      ...(f.window ? { window: f.window } : {}),
    };
    if (!state) {
      state = {
        incidentId: `${workflowInfo().workflowId}:${now}`,
        subject: input.subject,
        openedAt: now,
        failures: 1,
        listed: [listedItem],
        latest: f,
        notifiedAt: now,
        notifiedFailures: 1,
        digestAt: now,
        updatesSent: 0,
        digestsSent: 0,
        keys: [f.key],
      };
      await send(state, 'opened');
      return;
    }
    state.failures += 1;
    state.latest = f;
    state.keys = [...state.keys, f.key].slice(-MAX_INCIDENT_KEYS);
    if (state.listed.length < MAX_INCIDENT_FAILURES) state.listed.push(listedItem);
  }

  async function onSuccess(s: IncidentSuccess | undefined): Promise<IncidentResolution | undefined> {
    if (!state) return undefined;
    const open = state;
    const ids = open.listed.map((w) => w.workflowId).filter((id): id is string => Boolean(id));
    const reruns = ids.length > 0 ? await rerunStates({ workflowIds: ids }) : {};
    const resolvedAt = new Date().toISOString();
    await deliverIncidentMessage({
      failure: open.latest,
      ...(s ? { success: s } : {}),
      note: {
        id: open.incidentId,
        event: 'resolved',
        subject: open.subject,
        openedAt: open.openedAt,
        failures: open.failures,
        windows: open.listed.map((w) => ({
          ...w,
          ...(w.workflowId ? { rerun: reruns[w.workflowId] ?? 'not re-run' } : {}),
        })),
        unlisted: Math.max(0, open.failures - open.listed.length),
        ...(open.threads ? { threads: open.threads } : {}),
      },
    });
    state = undefined;
    return {
      incidentId: open.incidentId,
      subject: open.subject,
      failures: open.failures,
      openedAt: open.openedAt,
      resolvedAt,
      updatesSent: open.updatesSent,
      digestsSent: open.digestsSent,
    };
  }

  /** Sends what is due now; returns the ms until the next thing is due (undefined: nothing pending). */
  async function dueMessages(s: IncidentState): Promise<number> {
    const now = Date.now();
    const sinceUpdate = now - Date.parse(s.notifiedAt);
    if (s.failures > s.notifiedFailures && sinceUpdate >= updateIntervalMs) {
      const at = new Date(now).toISOString();
      await send(s, 'updated', {
        notifiedAt: at,
        notifiedFailures: s.failures,
        updatesSent: s.updatesSent + 1,
      });
    }
    if (now - Date.parse(s.digestAt) >= digestIntervalMs) {
      await send(s, 'digest', { digestAt: new Date(now).toISOString(), digestsSent: s.digestsSent + 1 });
    }
    const nextUpdate =
      s.failures > s.notifiedFailures
        ? Date.parse(s.notifiedAt) + updateIntervalMs
        : Number.POSITIVE_INFINITY;
    const nextDigest = Date.parse(s.digestAt) + digestIntervalMs;
    const quietAt = input.resolveWhenQuietMs
      ? Date.parse(s.latest.at) + input.resolveWhenQuietMs
      : Number.POSITIVE_INFINITY;
    return Math.max(1, Math.min(nextUpdate, nextDigest, quietAt) - Date.now());
  }

  for (;;) {
    while (inbox.length > 0) {
      const m = inbox.shift() as Inbox[number];
      handled += 1;
      if ('failure' in m) await onFailure(m.failure);
      else {
        const resolution = await onSuccess(m.success);
        // Failures that arrived after the success open the next incident in a new run.
        if (resolution && inbox.length === 0) return resolution;
      }
    }
    if (!state) return undefined;
    if (input.resolveWhenQuietMs && Date.now() - Date.parse(state.latest.at) >= input.resolveWhenQuietMs)
      return onSuccess(undefined);
    const waitMs = await dueMessages(state);
    if (inbox.length > 0) continue;
    if (handled >= MESSAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof exportIncidentWorkflow>({ ...input, state });
    }
    await condition(() => inbox.length > 0, waitMs);
  }
}
