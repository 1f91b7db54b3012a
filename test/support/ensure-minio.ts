// CI step (.ci/run): finds or builds the MinIO server the S3 storage tests start (see ./minio.ts) and
// prints where it is. Kept under test/ so the image build never compiles it: MinIO is never shipped.
import { findMinio } from './minio';

findMinio({ log: (m) => console.log(m) })
  .then((bin) => console.log(`minio: ${bin}`))
  .catch((err: Error) => {
    console.error(err.message);
    process.exitCode = 1;
  });
