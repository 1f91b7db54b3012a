// Finds or builds the MinIO server the S3 storage tests start (see test/support/minio.ts) and prints where
// it is. Test-only: MinIO is never shipped.
import { findMinio } from '../test/support/minio';

findMinio({ log: (m) => console.log(m) })
  .then((bin) => console.log(`minio: ${bin}`))
  .catch((err: Error) => {
    console.error(err.message);
    process.exitCode = 1;
  });
