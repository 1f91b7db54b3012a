// Finds or builds the Temporal CLI (see tooling/devserver/find-cli.ts) and prints where it is.
import { findTemporalCli } from '../tooling/devserver';

findTemporalCli({ log: (m) => console.log(m) })
  .then((cli) => {
    if (cli) console.log(`temporal CLI: ${cli.path} (${cli.source})`);
    else
      console.log(
        'no temporal CLI and no Go toolchain: tests will use the Temporal SDK download (needs internet)',
      );
  })
  .catch((err: Error) => {
    console.error(err.message);
    process.exitCode = 1;
  });
