// `deployment status` output: the current and ramping builds and each version's status, oldest first.
import { formatDeploymentStatus } from '../../../src/cli/deployment-command';

describe('formatDeploymentStatus', () => {
  it('shows the current and ramping builds and every version with its status', () => {
    const text = formatDeploymentStatus({
      deploymentName: 'm3ter-exports',
      exists: true,
      currentBuildId: '0.2.0+b',
      rampingBuildId: '0.3.0+c',
      rampingPercentage: 10,
      versions: [
        { buildId: '0.1.0+a', status: 'draining', createdAt: '2026-01-01T00:00:00.000Z' },
        { buildId: '0.2.0+b', status: 'current', createdAt: '2026-01-02T00:00:00.000Z' },
      ],
    });
    expect(text.split('\n')).toEqual([
      'deployment m3ter-exports',
      '  current  0.2.0+b',
      '  ramping  0.3.0+c at 10 %',
      '  versions (oldest first):',
      '    draining  0.1.0+a  created 2026-01-01T00:00:00.000Z',
      '    current   0.2.0+b  created 2026-01-02T00:00:00.000Z',
    ]);
  });

  it('says when no versioned worker has polled yet', () => {
    expect(formatDeploymentStatus({ deploymentName: 'd', exists: false, versions: [] })).toMatch(/none yet/);
  });
});
