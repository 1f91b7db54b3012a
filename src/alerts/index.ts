export { alertPayload, type Alert, type AlertKind, type Alerter, type AlertPayload } from './webhook';
export {
  createAlertRouter,
  createChannel,
  DEFAULT_CHANNEL,
  type AlertRouter,
  type ChannelResult,
} from './router';
export {
  buildAlertMessage,
  rerunCommand,
  temporalUiLink,
  type AlertContext,
  type AlertMessage,
} from './message';
export { slackPayload, type SlackPayload } from './slack';
export { pagerDutyEvent, PAGERDUTY_EVENTS_URL } from './pagerduty';
export {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  signedHeaders,
  verifyWebhookSignature,
  webhookSignature,
} from './signed-webhook';
export { postJsonWithRetry } from './deliver';
