// Failure reasons come from m3ter and reach people through Slack: nothing in them may mention a channel,
// link somewhere or unfurl. The real Slack channel posts to a loopback receiver; the body it received is
// what Slack would render.
import { createChannel } from '../../../src/alerts/router';
import { buildAlertMessage } from '../../../src/alerts/message';
import { alertReceiverPerBlock } from '../../support/alert-receiver';

interface TextObject {
  type: string;
  text: string;
  verbatim?: boolean;
}
interface Received {
  text: string;
  unfurl_links: boolean;
  unfurl_media: boolean;
  blocks: Array<{ type: string; text?: TextObject; fields?: TextObject[]; elements?: TextObject[] }>;
}

describe('Slack alerts carry m3ter text inert', () => {
  const receiver = alertReceiverPerBlock();

  it('mentions, links and markup in the message show as typed, in the fallback text and every block', async () => {
    const hostile =
      '<!channel> <!here|here> @everyone please <https://evil.example/login|Re-authenticate> at https://evil.example & <@U123>';
    const channel = createChannel({ name: 'ops', type: 'slack', url: `${receiver.url}/slack` });
    const message = buildAlertMessage({
      kind: 'ExportJobFailed',
      jobId: 'job-1',
      exportName: 'nightly <b>',
      message: `export job job-1 FAILED: ${hostile}`,
    });
    const r = await channel.send(message, new Date());
    expect(r.ok).toBe(true);
    const body = receiver.on('/slack')[0].json as Received;

    const texts = [
      body.text,
      ...body.blocks
        .flatMap((b) => [b.text, ...(b.fields ?? []), ...(b.elements ?? [])])
        .map((t) => t?.text ?? ''),
    ];
    for (const t of texts) {
      // No raw control sequences: every <, > and & is an entity.
      expect(t).not.toMatch(/<|>/);
      expect(t).not.toMatch(/&(?!amp;|lt;|gt;)/);
      expect(t).not.toMatch(/@(channel|here|everyone)\b/);
      expect(t).not.toMatch(/https?:\/\//);
    }
    expect(body.text).toContain('&lt;!channel&gt;');
    expect(body.text).toContain('&lt;https[:]//evil.example/login|Re-authenticate&gt;');
    for (const b of body.blocks)
      for (const t of [b.text, ...(b.fields ?? []), ...(b.elements ?? [])])
        if (t?.type === 'mrkdwn') expect(t.verbatim).toBe(true);
    expect(body).toMatchObject({ unfurl_links: false, unfurl_media: false });
  });
});
