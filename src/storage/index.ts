export { createLocalStorage, sanitizeFileName, type LocalStorageOptions } from './local';
export type {
  CommittedFile,
  ExportFileKind,
  ExportStorage,
  Manifest,
  OpenWriterOptions,
  StorageWriter,
} from './types';
