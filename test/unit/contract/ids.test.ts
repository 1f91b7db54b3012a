import { canonicalJson, exportWorkflowId } from '../../../src/definitions/hash';
import { exportKindOf } from '../../../src/contract/vocabulary';

describe('export ids', () => {
  const req = {
    sourceType: 'USAGE',
    startDate: '2025-05-01T00:00:00Z',
    endDate: '2025-05-02T00:00:00Z',
    meterIds: ['m1', 'm2'],
  };

  it('is deterministic and independent of key order', () => {
    const a = exportWorkflowId('usage', req);
    const b = exportWorkflowId('usage', {
      meterIds: ['m1', 'm2'],
      endDate: req.endDate,
      startDate: req.startDate,
      sourceType: 'USAGE',
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^export:usage:adhoc:2025-05-01T00-00-00Z:[0-9a-f]{12}$/);
  });

  it('changes with the request, the kind and the name', () => {
    const a = exportWorkflowId('usage', req);
    expect(exportWorkflowId('usage', { ...req, meterIds: ['m2', 'm1'] })).not.toBe(a);
    expect(exportWorkflowId('usage', req, 'nightly')).toMatch(/^export:usage:nightly:/);
    expect(
      exportWorkflowId('operational', { sourceType: 'OPERATIONAL', operationalDataTypes: ['BILLS'] }),
    ).toMatch(/^export:operational:adhoc:all:[0-9a-f]{12}$/);
  });

  it('canonical JSON sorts keys recursively and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [2, { z: 1, y: 2 }] } })).toBe(
      '{"a":{"c":[2,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('derives the export kind from the request: usage, operational, else the bill CSV', () => {
    expect(exportKindOf({ sourceType: 'USAGE' })).toBe('usage');
    expect(exportKindOf({ sourceType: 'OPERATIONAL' })).toBe('operational');
    expect(exportKindOf(undefined)).toBe('bills');
  });
});
