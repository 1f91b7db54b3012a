export { redact, redactUrl, Redactor, REDACTED } from '../log/redact';
