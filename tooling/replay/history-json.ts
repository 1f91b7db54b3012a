// Histories as proto3 JSON, the format of `temporal workflow show --output json`, read and written with
// the protobufjs copy that @temporalio/proto itself loads. The SDK's own historyToJSON/historyFromJSON
// (@temporalio/common) load protobufjs from @temporalio/common's folder; when npm installs a separate copy
// there, the History type and the converter come from two copies and every call fails ("type must be a
// Type"). Resolving from @temporalio/proto keeps type and converter in one copy whatever the layout.
import path from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const protoDir = path.dirname(require.resolve('@temporalio/proto/package.json'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as ProtoJson;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const historyType = (patchProtobufRoot(proto) as any).lookupType('temporal.api.history.v1.History');

type History = proto.temporal.api.history.v1.IHistory;

/** A fetched history as proto3 JSON (an object, not yet a string). */
export function historyToJsonObject(history: History): { events: Array<Record<string, unknown>> } {
  const message = proto.temporal.api.history.v1.History.fromObject(history);
  return protojson.toJson(historyType, message) as { events: Array<Record<string, unknown>> };
}

/** A proto3 JSON history back into the History the worker's replay takes. */
export function historyFromJsonObject(json: unknown): History {
  const loaded = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!loaded) throw new TypeError('not a history');
  return loaded as History;
}
