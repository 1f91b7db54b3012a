// Export windows and their workflow ids. Workflow code must import '../contract/window-ids' directly: this index also
// re-exports the Intl-based window arithmetic, which only activities and the CLI may run.
export * from './windows';
export * from '../contract/window-ids';
