// `export --storage none --wait` prints a fresh download URL to the terminal: the URL m3ter hands out for
// it obeys the same rules as one the worker downloads, and only what passed them is printed.
import { printFreshDownloadUrl } from '../../../src/cli/export-command';
import { captureIo } from '../../support/capture-io';
import { UrlRefusedError, UrlRule } from '../../../src/net/url-guard';

const API_ORIGIN = 'https://api.m3ter.example';

function m3terAnswering(url: string) {
  return {
    apiOrigin: API_ORIGIN,
    getExportDownloadUrl: async () => ({ url, expirationTime: '2026-12-02T17:00:00Z' }),
  };
}

describe('printFreshDownloadUrl', () => {
  it('prints a public https URL with its query, on stdout only', async () => {
    const io = captureIo();
    const url = 'https://files.m3ter.example/exports/j1.csv?X-Amz-Signature=abc';
    await printFreshDownloadUrl({ jobId: 'j1' }, io, m3terAnswering(url));
    expect(io.out).toEqual([url]);
    expect(io.err.join('\n')).not.toContain('X-Amz-Signature');
  });

  it.each([
    ['plain http elsewhere', 'http://files.m3ter.example/j1.csv?sig=abc', UrlRule.Scheme],
    ['a loopback address', 'https://127.0.0.1:9/j1.csv?sig=abc', UrlRule.Address],
    ['the metadata address', 'https://169.254.169.254/latest/meta-data?sig=abc', UrlRule.Address],
    ['credentials in the URL', 'https://u:p@files.m3ter.example/j1.csv', UrlRule.Userinfo],
    ['a data: URL', 'data:text/plain,hello', UrlRule.Scheme],
  ])('refuses %s with UrlRefusedError and prints nothing', async (_what, url, rule) => {
    const io = captureIo();
    const refused = await printFreshDownloadUrl({ jobId: 'j1' }, io, m3terAnswering(url)).catch((e) => e);
    expect(refused).toBeInstanceOf(UrlRefusedError);
    expect((refused as UrlRefusedError).rule).toBe(rule);
    expect((refused as Error).message).not.toContain('sig=abc');
    expect(io.out).toEqual([]);
  });

  it('prints nothing when the result names no job', async () => {
    const io = captureIo();
    await printFreshDownloadUrl({}, io, m3terAnswering('https://files.m3ter.example/x'));
    expect(io.out).toEqual([]);
  });
});
