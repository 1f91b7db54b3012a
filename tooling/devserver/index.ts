export * from './find-cli';
export * from './dev-server';
