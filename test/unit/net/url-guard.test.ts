import type { LookupAddress } from 'node:dns';
import { isPublicAddress } from '../../../src/net/address';
import { checkUrl, guardedLookup, UrlRefusedError, UrlRule } from '../../../src/net/url-guard';

function ruleOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(UrlRefusedError);
    return (e as UrlRefusedError).rule;
  }
}

describe('the download URL rules', () => {
  it('only public unicast addresses count as public, in every spelling', () => {
    for (const a of ['8.8.8.8', '52.95.110.1', '2606:4700::1111']) expect(isPublicAddress(a)).toBe(true);
    for (const a of [
      '127.0.0.1',
      '0.0.0.0',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '169.254.169.254',
      '224.0.0.1',
      '::1',
      '::',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::a9fe:a9fe',
      'example.com',
    ])
      expect(isPublicAddress(a)).toBe(false);
  });

  it('URLs on the API origin are trusted whatever their scheme and address', () => {
    expect(
      ruleOf(() =>
        checkUrl('http://127.0.0.1:4000/files/x?sig=1', { trustedOrigin: 'http://127.0.0.1:4000' }),
      ),
    ).toBeUndefined();
    expect(
      ruleOf(() => checkUrl('http://127.0.0.1:4001/files/x', { trustedOrigin: 'http://127.0.0.1:4000' })),
    ).toBe(UrlRule.Scheme);
  });

  it('other URLs must be https, without userinfo, and not name a private address literal', () => {
    const p = { trustedOrigin: 'https://api.m3ter.com' };
    expect(
      ruleOf(() => checkUrl('https://bucket.s3.amazonaws.com/k.csv?X-Amz-Signature=a', p)),
    ).toBeUndefined();
    expect(ruleOf(() => checkUrl('http://bucket.s3.amazonaws.com/k.csv', p))).toBe(UrlRule.Scheme);
    expect(ruleOf(() => checkUrl('ftp://bucket/k.csv', p))).toBe(UrlRule.Scheme);
    expect(ruleOf(() => checkUrl('https://u:p@bucket.example/k.csv', p))).toBe(UrlRule.Userinfo);
    expect(ruleOf(() => checkUrl('https://0x7f.1/k.csv', p))).toBe(UrlRule.Address);
    expect(ruleOf(() => checkUrl('https://2130706433/k.csv', p))).toBe(UrlRule.Address);
    expect(ruleOf(() => checkUrl(`https://x.example/${'a'.repeat(20_000)}`, p))).toBe(UrlRule.Malformed);
  });

  it('the connect-time lookup refuses a name when any of its addresses is private (DNS rebinding)', async () => {
    const answers: LookupAddress[][] = [
      [{ address: '93.184.216.34', family: 4 }],
      [
        { address: '93.184.216.34', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
      [{ address: '169.254.169.254', family: 4 }],
    ];
    let n = 0;
    const lookup = guardedLookup((_host, cb) => cb(null, answers[n++]));
    const run = () =>
      new Promise<unknown>((resolve) =>
        lookup('files.example', { all: true }, (err, addresses) => resolve(err ?? addresses)),
      );
    expect(await run()).toEqual(answers[0]);
    expect(await run()).toBeInstanceOf(UrlRefusedError);
    expect(await run()).toBeInstanceOf(UrlRefusedError);
  });
});
