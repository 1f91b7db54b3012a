// Search attribute keys shared by workflows (which upsert them) and the client side (CLI, activities that
// query visibility). Pure: no Node built-ins, so the workflow bundle can include it. The dev server this
// repository starts (src/devserver) registers both attributes; a production namespace needs them too
// (`temporal operator search-attribute create --name M3terExportJobId --type Keyword`), otherwise the
// upsert fails the workflow task.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SEARCH_ATTRIBUTE_JOB_ID = 'M3terExportJobId';
export const SEARCH_ATTRIBUTE_KIND = 'M3terExportKind';

/** The m3ter ExportJob id this workflow owns. Also the "claim" the trigger activity's recovery checks. */
export const M3terExportJobId = defineSearchAttributeKey(
  SEARCH_ATTRIBUTE_JOB_ID,
  SearchAttributeType.KEYWORD,
);
/** 'usage' | 'operational' | 'bills'. */
export const M3terExportKind = defineSearchAttributeKey(SEARCH_ATTRIBUTE_KIND, SearchAttributeType.KEYWORD);
