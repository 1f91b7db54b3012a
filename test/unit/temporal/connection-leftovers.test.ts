// A connection attempt that fails leaves nothing behind that keeps the process alive: the worker retries
// connections for as long as Temporal is down, and each attempt's gRPC channel and timers would pile up.
import { Connection } from '@temporalio/client';
import {
  connectTemporalClient,
  localTemporalSettings,
  openClientConnection,
  TemporalConnectionError,
} from '../../../src/temporal/connection';
import { freePort } from '../../../tooling/devserver';

/** gRPC's connectivity state of a closed channel (`connectivityState.SHUTDOWN` in @grpc/grpc-js). */
const GRPC_SHUTDOWN = 4;

/** The part of the gRPC client behind a Connection this test reads (`client` is protected in the SDK's types). */
interface GrpcClient {
  getChannel(): { getConnectivityState(tryToConnect: boolean): number };
}

/** Timers that would keep the process alive (unreferenced ones are not listed). */
const liveTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('failed Temporal connections', () => {
  it('a refused client connection fails with TemporalConnectionError without starting a gRPC channel', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    // Every SDK connection, `Connection.connect` included, is made by `Connection.lazy`.
    const channels = jest.spyOn(Connection, 'lazy');
    try {
      const before = liveTimers();
      const err = await connectTemporalClient(localTemporalSettings(address, 'default', 'the test')).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TemporalConnectionError);
      expect((err as TemporalConnectionError).unreachable).toBe(true);
      expect(channels).not.toHaveBeenCalled();
      expect(liveTimers()).toBeLessThanOrEqual(before);
    } finally {
      channels.mockRestore();
    }
  });

  it('a client connection that fails at its deadline closes its channel', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const channels = jest.spyOn(Connection, 'lazy');
    try {
      await expect(openClientConnection({ address, connectTimeout: 300 })).rejects.toThrow(Error);
      expect(channels).toHaveBeenCalledTimes(1);
      const { client } = channels.mock.results[0].value as unknown as { client: GrpcClient };
      expect(client.getChannel().getConnectivityState(false)).toBe(GRPC_SHUTDOWN);
    } finally {
      channels.mockRestore();
    }
  });
});
