// CI step (.ci/run): builds the compose validator (./compose-validate.ts) ahead of the tests, so its first
// build (compose-go from the Go module proxy) is not timed against a test.
import { ensureComposeValidator } from './compose-validate';

ensureComposeValidator((m) => console.log(m))
  .then((bin) => console.log(`compose-validate: ${bin}`))
  .catch((err: Error) => {
    console.error(err.message);
    process.exitCode = 1;
  });
