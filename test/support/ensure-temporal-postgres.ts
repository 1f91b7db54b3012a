// CI step (.ci/run): builds the Temporal server and its sql tool for the Postgres-backed tests
// (./temporal-postgres.ts) ahead of them, so the first build (~2.5 min cold) is not timed against a test.
import { findTemporalServer } from './temporal-postgres';

findTemporalServer((m) => console.log(m))
  .then((b) => console.log(`temporal server: ${b.server}\nsql tool: ${b.sql}\nmodule: ${b.moduleDir}`))
  .catch((err: Error) => {
    console.error(err.message);
    process.exitCode = 1;
  });
