// Search attribute keys shared by workflows (which upsert them) and the client side (CLI, activities that
// query visibility). Pure: no Node built-ins, so the workflow bundle can include it.
//
// SEARCH_ATTRIBUTES is the one list: the dev server this repository starts registers it, `m3ter-exports
// setup` registers it on any namespace, and docker-compose and docs/deploying.md take it from here. A namespace without
// them fails the workflow task that upserts one.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SEARCH_ATTRIBUTE_JOB_ID = 'M3terExportJobId';
export const SEARCH_ATTRIBUTE_KIND = 'M3terExportKind';

/**
 * The m3ter ExportJob id this workflow owns, for operators and the failure monitor. Eventually consistent:
 * the trigger's recovery reads the job claims instead (activities/claims.ts).
 */
export const M3terExportJobId = defineSearchAttributeKey(
  SEARCH_ATTRIBUTE_JOB_ID,
  SearchAttributeType.KEYWORD,
);
/** 'usage' | 'operational' | 'bills'. */
export const M3terExportKind = defineSearchAttributeKey(SEARCH_ATTRIBUTE_KIND, SearchAttributeType.KEYWORD);
/** The export definition's name (scheduled exports, backfills), or the ad-hoc export's `--name`. */
export const M3terExportName = defineSearchAttributeKey('M3terExportName', SearchAttributeType.KEYWORD);
/** Start of the window the run exports (UTC). */
export const M3terWindowStart = defineSearchAttributeKey('M3terWindowStart', SearchAttributeType.DATETIME);
/** On a re-run: the run id of the failed run it replaces (the failed run stays inspectable). */
export const M3terRerunOf = defineSearchAttributeKey('M3terRerunOf', SearchAttributeType.KEYWORD);

/** Set by the server on every start of a scheduled action: the action's nominal time. Built in. */
export const TemporalScheduledStartTime = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  SearchAttributeType.DATETIME,
);

/** Every custom search attribute the workflows use. */
export const SEARCH_ATTRIBUTES = [
  M3terExportJobId,
  M3terExportKind,
  M3terExportName,
  M3terWindowStart,
  M3terRerunOf,
] as const;

/** `Keyword`, `Datetime`, ...: the spelling of the Temporal CLI's `--search-attribute name=Type`. */
export function cliTypeName(type: SearchAttributeType): string {
  switch (type) {
    case SearchAttributeType.KEYWORD:
      return 'Keyword';
    case SearchAttributeType.DATETIME:
      return 'Datetime';
    case SearchAttributeType.TEXT:
      return 'Text';
    case SearchAttributeType.INT:
      return 'Int';
    case SearchAttributeType.DOUBLE:
      return 'Double';
    case SearchAttributeType.BOOL:
      return 'Bool';
    default:
      return 'KeywordList';
  }
}
