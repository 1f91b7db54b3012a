export {
  alertPayload,
  createWebhookAlerter,
  type Alert,
  type AlertKind,
  type Alerter,
  type AlertPayload,
  type WebhookAlerterOptions,
} from './webhook';
