// Export definitions: the YAML file ops keep in git, parsed and validated into typed definitions.
export * from './types';
export { DefinitionsError, loadDefinitionsFile, parseDefinitions } from './parse';
export { attachAlertRouting, loadRoutedDefinitionsFile } from './routing';
export { requestForWindow } from './request';
export { definitionHash } from './hash';
export { cronProblems, type CronCheckOptions } from './cron';
