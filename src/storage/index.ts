export { createLocalStorage, type LocalStorageOptions } from './local';
export { exportFileBase, sanitizeFileName } from './names';
export type {
  CommittedFile,
  ExportFileKind,
  ExportStorage,
  Manifest,
  OpenWriterOptions,
  StorageWriter,
} from './types';
